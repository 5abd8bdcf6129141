//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The benchmarks invoke the small claims workflow at concurrency 1 and
// report latency percentiles and CPU per invocation, counting the worker
// processes' CPU too:
//
//	go test -run '^$' -bench 'Invoke' -benchtime 3000x -count 5 ./internal/sandbox

func BenchmarkInProcessInvoke(b *testing.B) {
	r := NewInProcess(Options{})
	defer r.Close()
	benchInvoke(b, r, func() time.Duration { return 0 })
}

func BenchmarkSupervisorInvoke(b *testing.B) {
	s, _ := newSupervisor(b, func(o *Options) { o.Workers = 1 })
	benchInvoke(b, s, s.WorkerCPU)
}

// BenchmarkSupervisorPing is the protocol's own cost: a request and a
// small Result through a worker that runs nothing.
func BenchmarkSupervisorPing(b *testing.B) {
	s, _ := newSupervisor(b, func(o *Options) { o.Workers = 1 })
	req := claimsRequest()
	ctx := context.Background()
	for range 200 {
		s.run(ctx, hookPing, req)
	}
	self0 := selfCPU()
	work0 := s.WorkerCPU()
	b.ResetTimer()
	for range b.N {
		if res := s.run(ctx, hookPing, req).Result; res.Status != workflow.StatusSucceeded {
			b.Fatalf("%+v", res)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((selfCPU()-self0).Microseconds())/float64(b.N), "self-cpu-µs/op")
	b.ReportMetric(float64((s.WorkerCPU()-work0).Microseconds())/float64(b.N), "worker-cpu-µs/op")
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchInvoke(b *testing.B, r Runner, workerCPU func() time.Duration) {
	benchRequest(b, r, claimsRequest(), workerCPU)
}

// The Bundle benchmarks run a built bundle on an event, both named by the
// environment (FLOWGATE_BENCH_BUNDLE, FLOWGATE_BENCH_EVENT), as
// bench/compare.sh builds them (the real @kinde/infrastructure workflow).
func BenchmarkInProcessBundle(b *testing.B) {
	req := bundleRequest(b)
	r := NewInProcess(Options{})
	defer r.Close()
	benchRequest(b, r, req, func() time.Duration { return 0 })
}

func BenchmarkSupervisorBundle(b *testing.B) {
	req := bundleRequest(b)
	s, _ := newSupervisor(b, func(o *Options) { o.Workers = 1; o.MemoryCeiling = 0 })
	benchRequest(b, s, req, s.WorkerCPU)
}

func bundleRequest(b *testing.B) *Request {
	code, err := os.ReadFile(os.Getenv("FLOWGATE_BENCH_BUNDLE"))
	if err != nil {
		b.Skip("FLOWGATE_BENCH_BUNDLE names no bundle")
	}
	event, err := os.ReadFile(os.Getenv("FLOWGATE_BENCH_EVENT"))
	if err != nil {
		b.Skip("FLOWGATE_BENCH_EVENT names no event")
	}
	return &Request{Code: code, Event: event, Settings: workflow.Settings{ID: "benchClaims",
		Trigger: workflow.UserTokenGeneration, Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}}}
}

func benchRequest(b *testing.B, r Runner, req *Request, workerCPU func() time.Duration) {
	ctx := context.Background()
	for range 200 { // warm: worker started, bundle sent, runtimes pooled
		if res := r.Run(ctx, req).Result; res.Status != workflow.StatusSucceeded {
			b.Fatalf("%+v", res.Error)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	self0, work0 := selfCPU(), workerCPU()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res := r.Run(ctx, req).Result
		lat = append(lat, time.Since(start))
		if res.Status != workflow.StatusSucceeded {
			b.Fatalf("%+v", res.Error)
		}
	}
	b.StopTimer()
	self, work := selfCPU()-self0, workerCPU()-work0
	cpu := self + work
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Nanoseconds()) / 1e3 }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if work > 0 {
		b.ReportMetric(float64(work.Microseconds())/float64(b.N), "worker-cpu-µs/op")
	}
}

// BenchmarkCodec is the encoding's share of the protocol: one request
// (bundle cached, so without code) encoded and decoded, and its answer.
func BenchmarkCodec(b *testing.B) {
	req := claimsRequest()
	meta, err := encodeMeta(req)
	if err != nil {
		b.Fatal(err)
	}
	msg := runMsg{Seq: 1, Digest: runtime.Digest([]byte(claimsCode), nil), Meta: meta, Request: req}
	var buf []byte
	for range b.N {
		buf = appendRun(buf[:0], &msg)
		if _, err := decodeRun(buf); err != nil {
			b.Fatal(err)
		}
		r, _ := json.Marshal(pingResponse)
		var gr Response
		if err := json.Unmarshal(r, &gr); err != nil {
			b.Fatal(err)
		}
	}
}
