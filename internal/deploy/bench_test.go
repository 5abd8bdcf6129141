package deploy

import (
	"context"
	"testing"

	"github.com/flowgate/flowgate/internal/store/storetest"
)

// BenchmarkLiveFor measures the runtime API's pointer lookup on the hot
// path: served from memory, one version read per LiveCheckInterval (the
// benchmark uses the real clock), from all GOMAXPROCS goroutines.
func BenchmarkLiveFor(b *testing.B) {
	s, _ := newEnv(b, storetest.SQLiteURL(b)).service(b, svcOpts{realClock: true})
	mustSync(b, s, twoWorkflows(b, "v1"), "sha1")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l, err := s.LiveFor(ctx, "prod", tokens); l == nil || err != nil {
				b.Fatalf("LiveFor = %v, %v", l, err)
			}
		}
	})
}
