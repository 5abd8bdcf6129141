//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"slices"
	"syscall"
	"testing"
	"time"

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
	ctx := context.Background()
	req := claimsRequest()
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

// BenchmarkCodec compares JSON and gob for one request (bundle cached, so
// without code) and its answer, encoded and decoded once each, as a
// persistent gob stream would (type information sent once).
func BenchmarkCodec(b *testing.B) {
	req := claimsRequest()
	req.Code = nil
	msg := runMsg{Digest: Digest([]byte(claimsCode), nil), Request: req}
	resp := pingResponse
	b.Run("json", func(b *testing.B) {
		for range b.N {
			m, _ := json.Marshal(msg)
			var gm runMsg
			if err := json.Unmarshal(m, &gm); err != nil {
				b.Fatal(err)
			}
			r, _ := json.Marshal(resp)
			var gr Response
			if err := json.Unmarshal(r, &gr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gob", func(b *testing.B) {
		var buf bytes.Buffer
		enc, dec := gob.NewEncoder(&buf), gob.NewDecoder(&buf)
		for range b.N {
			if err := enc.Encode(&msg); err != nil {
				b.Fatal(err)
			}
			var gm runMsg
			if err := dec.Decode(&gm); err != nil {
				b.Fatal(err)
			}
			if err := enc.Encode(&resp); err != nil {
				b.Fatal(err)
			}
			var gr Response
			if err := dec.Decode(&gr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
