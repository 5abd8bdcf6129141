package runtime

import (
	"context"
	"os"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// BenchmarkInvokeBundle runs a built bundle on an event, both named by the
// environment (FLOWGATE_BENCH_BUNDLE, FLOWGATE_BENCH_EVENT), as
// bench/compare.sh builds them: the real @kinde/infrastructure workflow
// under go test's profilers.
func BenchmarkInvokeBundle(b *testing.B) {
	code, err := os.ReadFile(os.Getenv("FLOWGATE_BENCH_BUNDLE"))
	if err != nil {
		b.Skip("FLOWGATE_BENCH_BUNDLE names no bundle")
	}
	event, err := os.ReadFile(os.Getenv("FLOWGATE_BENCH_EVENT"))
	if err != nil {
		b.Skip("FLOWGATE_BENCH_EVENT names no event")
	}
	e := New(Options{})
	p, err := e.Load(code, nil)
	if err != nil {
		b.Fatal(err)
	}
	st := workflow.Settings{ID: "benchClaims", Trigger: workflow.UserTokenGeneration,
		Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}}
	inv := Invocation{Program: p, Settings: st, Event: event}
	ctx := context.Background()
	for range 200 {
		if r := e.Run(ctx, inv); r.Status != workflow.StatusSucceeded {
			b.Fatalf("workflow failed: %+v", r.Error)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		e.Run(ctx, inv)
	}
}
