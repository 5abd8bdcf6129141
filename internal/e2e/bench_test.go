package e2e

import (
	"context"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/testenv"
)

// benchRepo is the repository BENCHMARKS.md measures (bench/claims); its
// node_modules is a link to testdata/npm/node_modules, outside that
// repository, so it is passed as a package folder the tool installed.
func benchRepo(tb testing.TB) (*project.Workflow, []byte) {
	tb.Helper()
	modules := testenv.NodeModules(tb)
	dir := filepath.Join(testenv.Root(), "bench", "claims")
	r, err := project.Check(context.Background(), dir, project.Options{PackageDirs: []string{modules}})
	if err != nil {
		tb.Fatal(err)
	}
	if !r.OK() || len(r.Workflows) != 1 {
		tb.Fatalf("bench/claims: %d workflows, diagnostics %v", len(r.Workflows), r.Diagnostics)
	}
	event, err := os.ReadFile(filepath.Join(dir, "events", "tokens.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return r.Workflows[0], event
}

// TestBenchmarkWorkflow keeps the benchmark fixture honest: it is valid
// and sets its three claims through the real library.
func TestBenchmarkWorkflow(t *testing.T) {
	w, event := benchRepo(t)
	eng := runtime.New(runtime.Options{})
	p, err := eng.Load(w.Bundle.Code, w.Bundle.SourceMap)
	if err != nil {
		t.Fatal(err)
	}
	res := eng.Run(context.Background(), runtime.Invocation{Program: p, Settings: w.Settings, Event: event})
	mustSucceed(t, res)
	if got := asJSON(t, res.AccessToken.CustomClaims); got != `{"org":"org_0123","origin":"authorization_request","userId":"kp_0123"}` {
		t.Errorf("claims %s", got)
	}
}

// BenchmarkIdlePooledRuntime reports the heap one idle pooled runtime of
// the benchmark workflow holds: K engines each run the workflow once (so
// each keeps one warm runtime), minus K engines that only compiled it.
func BenchmarkIdlePooledRuntime(b *testing.B) {
	w, event := benchRepo(b)
	const k = 50
	heap := func() uint64 {
		var m goruntime.MemStats
		goruntime.GC()
		goruntime.GC()
		goruntime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	engines := func(run bool) float64 {
		before := heap()
		keep := make([]*runtime.Engine, k)
		for i := range keep {
			keep[i] = runtime.New(runtime.Options{})
			p, err := keep[i].Load(w.Bundle.Code, w.Bundle.SourceMap)
			if err != nil {
				b.Fatal(err)
			}
			if run {
				if res := keep[i].Run(context.Background(), runtime.Invocation{Program: p, Settings: w.Settings, Event: event}); res.Status != "succeeded" {
					b.Fatalf("run: %+v", res.Error)
				}
			}
		}
		after := heap()
		goruntime.KeepAlive(keep)
		return float64(after) - float64(before)
	}
	for i := 0; i < b.N; i++ {
		withRuntime := engines(true)
		compiledOnly := engines(false)
		b.ReportMetric((withRuntime-compiledOnly)/k/1024, "KiB/idle-runtime")
		b.ReportMetric(compiledOnly/k/1024, "KiB/compiled-program")
	}
}

// BenchmarkInvokeBenchWorkflow is the pooled invocation of the benchmark
// workflow as a Go benchmark, for profiling (-cpuprofile, -memprofile);
// `flowgate bench` reports the same path with latency percentiles.
func BenchmarkInvokeBenchWorkflow(b *testing.B) {
	w, event := benchRepo(b)
	eng := runtime.New(runtime.Options{})
	p, err := eng.Load(w.Bundle.Code, w.Bundle.SourceMap)
	if err != nil {
		b.Fatal(err)
	}
	inv := runtime.Invocation{Program: p, Settings: w.Settings, Event: event}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := eng.Run(ctx, inv); res.Status != "succeeded" {
			b.Fatalf("run: %+v", res.Error)
		}
	}
}
