package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	goruntime "runtime"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

const benchUsage = `Usage: flowgate bench (--trigger T | --workflow ID) --event FILE [flags] [DIR]

Measures what one invocation of a workflow costs on this machine: it checks
the repository like "flowgate run", warms the runtime pool, then runs the
workflow N times on the event from C goroutines and reports latency, CPU
time and allocations per invocation.

Flags:
  --n N               measured invocations (default 2000)
  --concurrency C     goroutines invoking at once (default 1)
  --warmup W          unmeasured invocations first (default 200)
  --isolation MODE    process (default): invocations go through the supervised
                      worker processes, as on the server; inprocess: the
                      pooled runtime in this process
  --baseline fresh    also measure a fresh runtime per invocation, in this
                      process (the design of Kinde's own runtime), and print
                      the CPU ratio
  --format text|json  a table (default) or one JSON object
  --trigger, --workflow, --event, --env, --encryption-key, --allow-host,
  --timeout           as for "flowgate run"

JSON: {"workflowId", "trigger", "mode", "isolation", "n", "concurrency", "meanUs", "p50Us",
"p99Us", "throughputPerSec", "cpuUsPerInvocation", "allocsPerInvocation",
"bytesPerInvocation"} and, with --baseline, "baseline": {the same for the
fresh runtime} and "cpuRatio" (baseline CPU /
pooled CPU). CPU is user+system
time of this process over the measured loop (getrusage; 0 where the system
cannot tell); allocations are Go heap allocations of this process
(runtime.MemStats). With --isolation process the workflow runs in worker
processes: CPU counts the workers' too (on Linux, from /proc), while
allocations are this process's only.

Exit status: 0 measured, 1 the workflow failed or is invalid, 2 bad usage.
`

// benchStats is one measured loop.
type benchStats struct {
	Mode                string  `json:"mode"`      // "pooled" or "fresh"
	Isolation           string  `json:"isolation"` // "process" or "inprocess"
	N                   int     `json:"n"`
	Concurrency         int     `json:"concurrency"`
	MeanUs              float64 `json:"meanUs"`
	P50Us               float64 `json:"p50Us"`
	P99Us               float64 `json:"p99Us"`
	ThroughputPerSec    float64 `json:"throughputPerSec"`
	CPUUsPerInvocation  float64 `json:"cpuUsPerInvocation"`
	AllocsPerInvocation float64 `json:"allocsPerInvocation"`
	BytesPerInvocation  float64 `json:"bytesPerInvocation"`
}

// benchReport is what bench prints.
type benchReport struct {
	WorkflowID string `json:"workflowId"`
	Trigger    string `json:"trigger"`
	benchStats
	Baseline *benchStats `json:"baseline,omitempty"`
	CPURatio float64     `json:"cpuRatio,omitempty"`
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f invokeFlags
	f.register(fs)
	n := fs.Int("n", 2000, "")
	conc := fs.Int("concurrency", 1, "")
	warmup := fs.Int("warmup", 200, "")
	baseline := fs.String("baseline", "", "")
	format := fs.String("format", "text", "")
	dir, code, ok := parseArgs(fs, "bench", benchUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "flowgate bench: %s\nRun \"flowgate bench --help\" for usage.\n", fmt.Sprintf(format, a...))
		return exitUsage
	}
	switch {
	case *n < 1:
		return usage("--n must be at least 1")
	case *conc < 1:
		return usage("--concurrency must be at least 1")
	case *warmup < 0:
		return usage("--warmup must not be negative")
	case *baseline != "" && *baseline != "fresh":
		return usage("unknown --baseline %q: the only baseline is fresh", *baseline)
	case *format != "text" && *format != "json":
		return usage("unknown --format %q: use text or json", *format)
	}
	in, ok := f.load("bench", stderr)
	if !ok {
		return exitUsage
	}
	runner, err := newRunner(*f.isolation, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate bench: %v\n", err)
		return exitUsage
	}
	defer runner.Close()
	w, code, ok := f.choose("bench", dir, runner, stderr)
	if !ok {
		return code
	}
	if w == nil {
		fmt.Fprintf(stderr, "flowgate bench: no workflow has trigger %q; nothing to measure\n", f.trigger)
		return exitProblems
	}
	rep := &benchReport{WorkflowID: w.Settings.ID, Trigger: w.Settings.Trigger}
	req := in.request(&f, w)
	pooled := func(ctx context.Context) *workflow.Result { return invoke.Run(ctx, runner, req).Result }
	// In process isolation the workers' CPU is counted with this process's.
	cpu, comparable := cpuTime, true
	if sup, ok := runner.(*sandbox.Supervisor); ok {
		cpu = func() time.Duration { return cpuTime() + sup.WorkerCPU() }
		comparable = goruntime.GOOS == "linux" // workers' CPU is read from /proc
	}
	stats, err := measure("pooled", *f.isolation, pooled, *n, *conc, *warmup, cpu)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate bench: %v\n", err)
		return exitProblems
	}
	rep.benchStats = *stats
	if *baseline == "fresh" {
		// Fewer warm-up runs: a fresh runtime has nothing to warm but the
		// compiled program and the Go heap.
		fresh, err := freshRun(w, in)
		if err != nil {
			fmt.Fprintf(stderr, "flowgate bench: %v\n", err)
			return exitProblems
		}
		b, err := measure("fresh", isolationInProcess, fresh, *n, *conc, min(*warmup, 20), cpuTime)
		if err != nil {
			fmt.Fprintf(stderr, "flowgate bench: %v\n", err)
			return exitProblems
		}
		rep.Baseline = b
		if stats.CPUUsPerInvocation > 0 && comparable {
			rep.CPURatio = round2(b.CPUUsPerInvocation / stats.CPUUsPerInvocation)
		}
	}
	if *format == "json" {
		writeJSON(stdout, rep)
	} else {
		writeBenchText(stdout, rep)
	}
	return exitOK
}

// freshRun invokes w on a runtime made fresh for every invocation, in
// this process: the baseline bench compares the pooled runtime with.
func freshRun(w *project.Workflow, in *invokeInput) (func(context.Context) *workflow.Result, error) {
	eng := runtime.New(runtime.Options{Limits: runtime.Limits{WallTime: in.timeout}, Fresh: true})
	p, err := eng.Load(w.Bundle.Code, w.Bundle.SourceMap)
	if err != nil {
		return nil, fmt.Errorf("load %s: %v", w.File, err)
	}
	cfg := &bindings.Config{
		Settings: w.Settings, Env: in.env, EncryptionKey: in.key,
		Net:   &bindings.NetPolicy{AllowHosts: in.allow},
		Cache: bindings.NewTokenCache(), Redact: workflow.Passwords(in.event),
	}
	inv := runtime.Invocation{Program: p, Settings: w.Settings, Event: in.event, Bindings: cfg}
	return func(ctx context.Context) *workflow.Result { return eng.Run(ctx, inv) }, nil
}

// measure runs the workflow warmup times, then n times from conc
// goroutines, and reports the measured loop.
func measure(mode, isolation string, run func(context.Context) *workflow.Result, n, conc, warmup int, cpuTime func() time.Duration) (*benchStats, error) {
	ctx := context.Background()
	if res := run(ctx); res.Status == workflow.StatusFailed {
		msg := "no error"
		if res.Error != nil {
			msg = res.Error.Message
		}
		return nil, fmt.Errorf("the workflow failed on this event, so there is nothing to measure: %s", msg)
	}
	loop := func(count int, lat []time.Duration) int64 {
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(count) {
						return
					}
					t0 := time.Now()
					res := run(ctx)
					if lat != nil {
						lat[i] = time.Since(t0)
					}
					if res.Status == workflow.StatusFailed {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return failed.Load()
	}
	loop(warmup, nil)

	lat := make([]time.Duration, n)
	goruntime.GC()
	var m0, m1 goruntime.MemStats
	goruntime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	start := time.Now()
	failed := loop(n, lat)
	wall := time.Since(start)
	cpu1 := cpuTime()
	goruntime.ReadMemStats(&m1)
	if failed > 0 {
		return nil, fmt.Errorf("%d of %d measured invocations failed", failed, n)
	}

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	us := func(d time.Duration) float64 { return round2(float64(d.Nanoseconds()) / 1e3) }
	fn := float64(n)
	return &benchStats{
		Mode: mode, Isolation: isolation, N: n, Concurrency: conc,
		MeanUs:              us(sum / time.Duration(n)),
		P50Us:               us(lat[percentile(n, 0.50)]),
		P99Us:               us(lat[percentile(n, 0.99)]),
		ThroughputPerSec:    round2(fn / wall.Seconds()),
		CPUUsPerInvocation:  round2(float64((cpu1 - cpu0).Nanoseconds()) / 1e3 / fn),
		AllocsPerInvocation: round2(float64(m1.Mallocs-m0.Mallocs) / fn),
		BytesPerInvocation:  round2(float64(m1.TotalAlloc-m0.TotalAlloc) / fn),
	}, nil
}

// percentile is the index of the q-quantile in n sorted samples.
func percentile(n int, q float64) int {
	i := int(float64(n)*q+0.5) - 1
	return min(max(i, 0), n-1)
}

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}

func writeBenchText(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "workflow %s (%s): %d invocations, concurrency %d\n\n", r.WorkflowID, r.Trigger, r.N, r.Concurrency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "runtime\tisolation\tmean µs\tp50 µs\tp99 µs\tinvocations/s\tCPU µs/inv\tallocs/inv\tKiB/inv\t")
	row := func(s *benchStats) {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.0f\t%.1f\t%.0f\t%.1f\t\n", s.Mode, s.Isolation, s.MeanUs, s.P50Us, s.P99Us,
			s.ThroughputPerSec, s.CPUUsPerInvocation, s.AllocsPerInvocation, s.BytesPerInvocation/1024)
	}
	row(&r.benchStats)
	if r.Baseline != nil {
		row(r.Baseline)
	}
	tw.Flush()
	if r.CPURatio > 0 {
		fmt.Fprintf(w, "\nfresh/pooled CPU per invocation: %.2fx\n", r.CPURatio)
	}
}
