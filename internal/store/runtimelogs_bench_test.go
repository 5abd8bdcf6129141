package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// BenchmarkAppendRuntimeLogs writes one batch as the runtime-log writer
// does on SQLite: 50 invocations of 5 workflows (a console line and an
// outcome row each, a tenth failed) within one minute, with their log
// totals and outcome counts. BENCHMARKS.md has the figures.
func BenchmarkAppendRuntimeLogs(b *testing.B) {
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	at := time.Now()
	batch := make([]store.RuntimeLog, 0, 100)
	for i := range 50 {
		base := store.RuntimeLog{InvocationID: fmt.Sprintf("inv_%d", i), Env: "prod", WorkflowID: fmt.Sprintf("wf%d", i%5),
			DeploymentID: "dep", Trigger: "user:tokens_generation", Level: "info", At: at.Add(time.Duration(i) * time.Millisecond)}
		line, out := base, base
		line.Message = "claims added"
		out.Status, out.Message, out.Duration = "succeeded", "invocation succeeded", time.Duration(100+i*37)*time.Microsecond
		if i%10 == 0 {
			out.Level, out.Status, out.Message = "error", "failed", "invocation failed (thrown): boom"
		}
		batch = append(batch, line, out)
	}
	b.ResetTimer()
	for range b.N {
		if err := db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, batch) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(batch)/2), "µs/invocation")
}
