package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/testenv"
)

// BenchmarkPruneUnderLoad fills the embedded SQLite database with expired
// runtime log rows (FLOWGATE_BENCH_PRUNE_ROWS, default 1,000,000; the
// figures in BENCHMARKS.md use 10,000,000), starts the service on it —
// retention starts pruning at once, in small batches — and calls the
// trigger at concurrency 2 until every expired row is gone. It reports how
// long pruning took and the calls' latency meanwhile.
//
//	FLOWGATE_BENCH_PRUNE_ROWS=10000000 go test ./internal/app -run '^$' -bench PruneUnderLoad -benchtime 1x -timeout 60m
func BenchmarkPruneUnderLoad(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv("FLOWGATE_BENCH_PRUNE_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("FLOWGATE_BENCH_PRUNE_ROWS=%q", v)
		}
		rows = n
	}
	for range b.N {
		benchPrune(b, rows)
	}
}

func benchPrune(b *testing.B, rows int) {
	ctx := context.Background()
	dataDir := b.TempDir()
	dbPath := filepath.Join(dataDir, "flowgate.db")
	db, err := store.Open(ctx, dbPath, dataDir)
	if err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-30 * 24 * time.Hour).UnixMicro()
	t0 := time.Now()
	for done := 0; done < rows; {
		n := min(rows-done, 500_000)
		_, err := db.SQL().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
			INSERT INTO runtime_logs (invocation_id, env, workflow_id, deployment_id, trigger, level, message, status, duration_us, at)
			SELECT 'inv_' || i, 'production', 'addClaims', 'dep_0', 'user:tokens_generation', 'info',
			'claims added for kp_0123', '', 0, ? + i FROM n`, n, old+int64(done))
		if err != nil {
			b.Fatal(err)
		}
		done += n
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO runtime_log_totals (env, row_count, byte_count) VALUES ('production', ?, ?)`,
		rows, rows*23); err != nil {
		b.Fatal(err)
	}
	db.Close()
	b.Logf("filled %d expired rows in %s", rows, time.Since(t0).Round(time.Second))

	repo := testenv.CopyRepo(b, filepath.Join(testenv.Root(), "examples", "starter"), false)
	a := startB(b, Config{DataDir: dataDir, DevRepo: repo, Workers: 2, AdminToken: "admin", RuntimeToken: "runtime"})
	started := time.Now()
	watch, err := store.Open(ctx, dbPath, dataDir) // a second connection, to watch the pruning
	if err != nil {
		b.Fatal(err)
	}
	defer watch.Close()
	expiredLeft := func() bool {
		var min int64
		watch.SQL().QueryRowContext(ctx, `SELECT COALESCE(MIN(at), 0) FROM runtime_logs`).Scan(&min)
		return min != 0 && min < old+int64(rows)+1
	}

	event, err := os.ReadFile(filepath.Join(repo, "events", "tokens.json"))
	if err != nil {
		b.Fatal(err)
	}
	url := a.URL() + "/api/v1/environments/production/triggers/user:tokens_generation"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	call := func() (time.Duration, error) {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(event))
		req.Header.Set("Authorization", "Bearer runtime")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"succeeded"`)) {
			return 0, fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return time.Since(t0), nil
	}
	for deadline := time.Now().Add(5 * time.Minute); ; {
		if _, err := call(); err == nil {
			break
		} else if time.Now().After(deadline) {
			b.Fatalf("never live: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Logf("live after %s", time.Since(started).Round(time.Millisecond))
	// measure calls the trigger at c=2 until done() holds.
	measure := func(done func() bool) []time.Duration {
		var stop atomic.Bool
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					d, err := call()
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		for !done() {
			time.Sleep(200 * time.Millisecond)
		}
		stop.Store(true)
		wg.Wait()
		slices.Sort(lat)
		if len(lat) == 0 {
			b.Fatal("no calls")
		}
		return lat
	}
	lat := measure(func() bool { return !expiredLeft() })
	pruned := time.Since(started)
	// The same calls with nothing to prune, as the control (the machine
	// may be busy with other work).
	until := time.Now().Add(30 * time.Second)
	ctl := measure(func() bool { return time.Now().After(until) })
	b.ReportMetric(float64(ctl[len(ctl)*99/100].Microseconds()), "control-p99-µs")
	b.ReportMetric(pruned.Seconds(), "prune-s")
	b.ReportMetric(float64(len(lat)), "calls")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}
