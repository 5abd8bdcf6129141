package runtime

import (
	"context"
	goruntime "runtime"
	"slices"
	"testing"
	"time"
)

// claimsTS is the benchmark workflow: a few custom claims on the access
// token from the event, as a typical tokens_generation workflow does.
const claimsTS = `export const workflowSettings = {
  id: "addClaims", trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, console: {} },
};

type Event = { context: { user: { id: string }; organization?: { code: string }; application: { clientId: string } } };

export default async function addClaims(event: Event) {
  const { user, organization, application } = event.context;
  kinde.accessToken.setCustomClaim("user_ref", "u-" + user.id);
  kinde.accessToken.setCustomClaim("org", organization?.code ?? null);
  kinde.accessToken.setCustomClaim("roles", ["reader", "writer"].map((r) => r + ":" + application.clientId));
  kinde.accessToken.setCustomClaim("meta", { tier: "gold", since: 2024 });
}
`

const benchEvent = `{"request":{"auth":{"audience":["api"]},"ip":"1.2.3.4"},"context":{"domains":{"kindeDomain":"https://x.kinde.com"},` +
	`"auth":{"origin":"authorization_request"},"application":{"clientId":"app1"},"user":{"id":"kp_1"},` +
	`"organization":{"code":"org_1"},"workflow":{"trigger":"user:tokens_generation"}}}`

func benchInvoke(b *testing.B, fresh bool) {
	code, smap := build(b, claimsTS)
	e := New(Options{Fresh: fresh})
	p, err := e.Load(code, smap)
	if err != nil {
		b.Fatal(err)
	}
	inv := Invocation{Program: p, Settings: settings(), Event: []byte(benchEvent)}
	ctx := context.Background()
	if r := e.Run(ctx, inv); r.Status != "succeeded" || len(r.AccessToken.CustomClaims) != 4 {
		b.Fatalf("workflow failed: %+v", r)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := time.Now()
		if r := e.Run(ctx, inv); r.Status != "succeeded" {
			b.Fatal(r.Error)
		}
		lat = append(lat, time.Since(st))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkInvokePooled: warm frozen runtimes from the pool.
func BenchmarkInvokePooled(b *testing.B) { benchInvoke(b, false) }

// BenchmarkInvokeFresh: a new runtime per invocation (Kinde's design),
// same compiled program, same setup and freezing.
func BenchmarkInvokeFresh(b *testing.B) { benchInvoke(b, true) }

func benchParallel(b *testing.B, fresh bool) {
	code, smap := build(b, claimsTS)
	e := New(Options{Fresh: fresh})
	p, err := e.Load(code, smap)
	if err != nil {
		b.Fatal(err)
	}
	inv := Invocation{Program: p, Settings: settings(), Event: []byte(benchEvent)}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := e.Run(context.Background(), inv); r.Status != "succeeded" {
				b.Error(r.Error)
				return
			}
		}
	})
}

func BenchmarkInvokePooledParallel(b *testing.B) { benchParallel(b, false) }
func BenchmarkInvokeFreshParallel(b *testing.B)  { benchParallel(b, true) }

// BenchmarkIdleRuntimeMemory reports the heap one idle, frozen, pooled
// runtime holds (after a GC), over 50 runtimes.
func BenchmarkIdleRuntimeMemory(b *testing.B) {
	code, smap := build(b, claimsTS)
	const n = 50
	for i := 0; i < b.N; i++ {
		e := New(Options{Limits: Limits{PoolSize: n}})
		p, err := e.Load(code, smap)
		if err != nil {
			b.Fatal(err)
		}
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		slots := make([]*slot, n)
		for j := range slots {
			if slots[j], err = e.newSlot(p); err != nil {
				b.Fatal(err)
			}
		}
		goruntime.GC()
		goruntime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n/1024, "KiB/runtime")
		goruntime.KeepAlive(slots)
	}
}

// BenchmarkRuntimeGrowth measures what one pooled runtime keeps after
// runs of the claims workflow: the whole process heap after GC after its
// 20000th and 30000th invocation, and the difference per invocation. It
// is what MaxUses would bound (LIMITS.md).
func BenchmarkRuntimeGrowth(b *testing.B) {
	code, smap := build(b, claimsTS)
	heap := func() uint64 {
		var m goruntime.MemStats
		goruntime.GC()
		goruntime.GC()
		goruntime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for i := 0; i < b.N; i++ {
		e := New(Options{Limits: Limits{PoolSize: 1, MaxUses: 1 << 30}})
		p, err := e.Load(code, smap)
		if err != nil {
			b.Fatal(err)
		}
		inv := Invocation{Program: p, Settings: settings(), Event: []byte(benchEvent)}
		const n = 10000
		runs := func() uint64 {
			for j := 0; j < n; j++ {
				if r := e.Run(context.Background(), inv); r.Status != "succeeded" {
					b.Fatal(r.Error)
				}
			}
			return heap()
		}
		runs()
		before := runs()
		after := runs()
		b.ReportMetric(float64(before)/1024, "heap-KiB@20k")
		b.ReportMetric(float64(after)/1024, "heap-KiB@30k")
		b.ReportMetric(float64(int64(after)-int64(before))/n, "retained-B/inv")
	}
}
