package prdiff

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/replay"
)

// BenchmarkRun500 is one pull request's diff over a full default window:
// 500 recorded calls of one workflow, both builds run for each, one run
// at a time (the default), in-process. The world holds 502: the newest
// 500 are replayed.
func BenchmarkRun500(b *testing.B) {
	svc, d := world(b)
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i := range 500 {
		rec := replay.Recorded{ID: fmt.Sprintf("rec_b%03d", i), WorkflowID: "addClaims", Trigger: "user:tokens_generation", At: at.Add(time.Duration(i) * time.Millisecond),
			Event: json.RawMessage(fmt.Sprintf(`{"request":{},"context":{"user":{"id":"kp_%d"}}}`, i))}
		if _, err := svc.AddRecording(ctx, env, rec, 1000); err != nil {
			b.Fatal(err)
		}
	}
	cand := build(b, map[string]string{"addClaimsWorkflow.ts": claims("diamond", "other")})
	b.ResetTimer()
	for range b.N {
		out, err := d.Run(ctx, Request{Env: env, Candidate: cand})
		if err != nil || out.Changed["addClaims"].Events != DefaultMaxEvents {
			b.Fatalf("%v %+v", err, out.Changed)
		}
	}
}
