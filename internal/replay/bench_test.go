package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// BenchmarkReplay replays 10,000 recorded calls of a realistic claims
// workflow (one recorded fetch each) against two builds that differ in one
// claim, through the supervised default runner (worker processes, one per
// core) at Run's default concurrency. One op is the whole replay: 20,000
// runs and their diff. BENCHMARKS.md ("Behaviour diff replay") has the figure.
func BenchmarkReplay(b *testing.B) {
	const n = 10_000
	runner, err := sandbox.NewSupervisor(sandbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer runner.Close()
	base := []invoke.Workflow{wf("addClaims", workflow.UserTokenGeneration, claimsBase, workflow.BindAccessToken, workflow.BindFetch)}
	cand := []invoke.Workflow{wf("addClaims", workflow.UserTokenGeneration, claimsCand, workflow.BindAccessToken, workflow.BindFetch, workflow.BindAuth)}
	events := make([]Recorded, n)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range events {
		user := fmt.Sprintf("kp_%05d", i)
		if i%100 == 0 {
			user = "kp_blocked"
		}
		plan := "free"
		if i%3 == 0 {
			plan = "pro"
		}
		ev, _ := json.Marshal(map[string]any{"request": map[string]any{"ip": "192.0.2.1", "userAgent": "bench"},
			"context": map[string]any{"user": map[string]any{"id": user, "email": user + "@example.com"}, "workflow": map[string]any{"trigger": workflow.UserTokenGeneration}}})
		events[i] = Recorded{ID: fmt.Sprintf("ev_%05d", i), WorkflowID: "addClaims", Trigger: workflow.UserTokenGeneration,
			At: at.Add(time.Duration(i) * time.Second), Event: ev,
			Fetch: []httpstub.Stub{{Method: "GET", URL: "https://billing.example.com/plan?u=" + user, Status: 200,
				Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"plan":"` + plan + `"}`}}}
	}
	in := Input{Candidate: cand, Baseline: base, Events: events}
	// Warm the workers (started lazily) and their compiled bundles.
	Run(context.Background(), runner, Input{Candidate: cand, Baseline: base, Events: events[:64]})
	b.ResetTimer()
	var rep *Report
	for b.Loop() {
		rep = Run(context.Background(), runner, in)
	}
	b.StopTimer()
	if rep.Events != n || rep.Workflows[0].Changed != n || len(rep.Workflows[0].CandidateFailures) != 0 {
		b.Fatalf("unexpected report: %+v", rep.Workflows[0])
	}
	b.ReportMetric(float64(2*n)*float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
