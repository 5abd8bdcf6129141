package app

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/testenv"
)

// BenchmarkRuntimeAPI drives the runtime API over loopback HTTP with the
// starter's claims workflow, as an auth server would: the real service
// (SQLite, the dev-repo sync, runtime logs written asynchronously) with
// workflows in worker processes (-isolation=process, the default) or in
// this process. It reports throughput and p50/p99 latency as seen by the
// client. BENCHMARKS.md has the command and the figures.
//
//	go test ./internal/app -run '^$' -bench RuntimeAPI -benchtime 4000x -count 3
func BenchmarkRuntimeAPI(b *testing.B) {
	for _, iso := range []string{"process", "inprocess"} {
		for _, conc := range []int{1, 2} {
			b.Run(fmt.Sprintf("isolation=%s/c=%d", iso, conc), func(b *testing.B) { benchAPI(b, iso, conc) })
		}
	}
}

func benchAPI(b *testing.B, isolation string, conc int) {
	repo := testenv.CopyRepo(b, filepath.Join(testenv.Root(), "examples", "starter"), false)
	a := startB(b, Config{DataDir: b.TempDir(), DevRepo: repo, Isolation: isolation, Workers: 2,
		AdminToken: "admin", RuntimeToken: "runtime"})
	event, err := os.ReadFile(filepath.Join(repo, "events", "tokens.json"))
	if err != nil {
		b.Fatal(err)
	}
	url := a.URL() + "/api/v1/environments/production/triggers/user:tokens_generation"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
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
		d := time.Since(t0)
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"succeeded"`)) {
			return d, fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return d, nil
	}
	// Wait for the first sync to go live, then warm up.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := call(); err == nil {
			break
		} else if time.Now().After(deadline) {
			b.Fatalf("never live: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for range 200 {
		call()
	}
	lat := make([]time.Duration, b.N)
	var next int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= int64(b.N) {
					return
				}
				d, err := call()
				if err != nil {
					b.Error(err)
					return
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// startB is start for benchmarks.
func startB(b *testing.B, cfg Config) *App {
	b.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.NPMRegistry == "" {
		cfg.NPMRegistry, _ = testenv.NPMRegistry(b)
	}
	ctx, cancel := contextWithCancel()
	a, err := New(ctx, cfg, quietLogger(), io.Discard)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	<-a.started
	b.Cleanup(func() { cancel(); <-done })
	return a
}
