package app

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
// client, and the CPU per call of the whole process tree. BENCHMARKS.md has
// the command and the figures.
//
//	go test ./internal/app -run '^$' -bench RuntimeAPI -benchtime 4000x -count 3
func BenchmarkRuntimeAPI(b *testing.B) {
	for _, iso := range []string{"process", "inprocess"} {
		for _, conc := range []int{1, 2, 8} {
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
	cpu0, workers0 := cpuTicks()
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
	cpu1, workers1 := cpuTicks()
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	// CPU per call, this process (service and client) and its worker
	// processes together, and the workers alone (from /proc, 10 ms ticks).
	tick := float64(10 * time.Millisecond / time.Microsecond)
	b.ReportMetric(float64(cpu1-cpu0+workers1-workers0)*tick/float64(b.N), "cpu-µs/call")
	b.ReportMetric(float64(workers1-workers0)*tick/float64(b.N), "workers-cpu-µs/call")
}

// cpuTicks returns this process's user+system CPU and its live child
// processes' (the sandbox workers), in clock ticks (Linux; zeros elsewhere).
func cpuTicks() (self, children uint64) {
	self = procTicks("self")
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, pid := range strings.Fields(string(data)) {
			children += procTicks(pid)
		}
	}
	return self, children
}

func procTicks(pid string) uint64 {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')') // the command may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseUint(f[11], 10, 64)
	s, _ := strconv.ParseUint(f[12], 10, 64)
	return u + s
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
