package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/workflow"
)

// deepClaimCode sets a claim nested 12,000 levels deep: 24 KB, under the
// claims budget, deeper than encoding/json decodes.
const deepClaimCode = `module.exports.default = async function () {
  let v = 1; for (let i = 0; i < 12000; i++) v = [v];
  kinde.accessToken.setCustomClaim("deep", v);
};`

// TestDeepClaimIsRefusedInTheWorkflow: the claim is refused where it is
// set, as an error the workflow sees; no worker is lost, nothing is
// logged as an internal error, and the bundle is not quarantined.
func TestDeepClaimIsRefusedInTheWorkflow(t *testing.T) {
	s, logs := newSupervisor(t, roomy)
	req := &Request{Settings: tokenSettings, Code: []byte(deepClaimCode), Event: []byte(`{"context":{}}`)}
	for i := range 30 {
		res := s.Run(context.Background(), req).Result
		if res.Status != workflow.StatusFailed || res.Error == nil || res.Error.Kind == workflow.KindInternal ||
			res.Error.Kind == workflow.KindSandboxCrashed || !strings.Contains(res.Error.Message, "nests deeper than") {
			b, _ := json.Marshal(res)
			t.Fatalf("call %d: %s", i, b)
		}
	}
	// (A worker may still be retired for its size, lazily: not a loss.)
	if st := s.Stats(); len(st.Stopped) != 0 {
		t.Errorf("stats %+v: workers were lost", st)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("error logged:\n%s", logs)
	}
	if q := s.Quarantines(); len(q) != 0 {
		t.Errorf("quarantined: %+v", q)
	}
}

// TestUndecodableResultIsAFailedResult: whatever Result reaches the worker's
// encoder — here one nested past what encoding/json decodes, made by a
// test hook, as no binding lets a workflow make it — the supervisor gets an
// answer it reads: a failed Result, the worker kept.
func TestUndecodableResultIsAFailedResult(t *testing.T) {
	s, logs := newSupervisor(t, roomy)
	for range 5 {
		res := s.run(context.Background(), hookDeep, claimsRequest()).Result
		wantKind(t, res, workflow.KindResultTooLarge)
		if res.WorkflowID != "claims" {
			t.Errorf("workflow id %q lost", res.WorkflowID)
		}
	}
	if st := s.Stats(); len(st.Stopped) != 0 {
		t.Errorf("stats %+v: workers were lost", st)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("error logged:\n%s", logs)
	}
}

// roomy is one worker with time to spare on a loaded machine: these tests
// are about what a run answers, not how fast.
func roomy(o *Options) {
	o.Workers = 1
	o.Limits.WallTime = time.Minute
	o.Grace = 10 * time.Second
}

// runCancelled runs req (as a message of type typ) and cancels it once a
// worker holds it.
func runCancelled(s *Supervisor, typ byte, req *Request) *workflow.Result {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *workflow.Result, 1)
	go func() { out <- s.run(ctx, typ, req).Result }()
	for s.Stats().Busy == 0 {
		goruntime.Gosched()
	}
	cancel()
	return <-out
}

// TestCancelledSpinCountsTowardQuarantine: a cancelled call whose worker
// does not stop within the grace period is killed, and the kill counts:
// three quarantine the bundle.
func TestCancelledSpinCountsTowardQuarantine(t *testing.T) {
	s, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	req := claimsRequest()
	wantOK(t, s.Run(context.Background(), req).Result) // a warm worker
	for range 3 {
		wantKind(t, runCancelled(s, hookSpin, req), workflow.KindTimeout)
	}
	if _, ok := s.Quarantined(Digest(req.Code, req.SourceMap)); !ok {
		t.Fatalf("three killed cancelled calls did not quarantine the bundle: %+v", s.Stats())
	}
	wantKind(t, s.Run(context.Background(), req).Result, workflow.KindQuarantined)
}

// TestCancelledRunStopsInItsWorker: a cancelled call to a workflow that
// can be interrupted ends in its worker, which is kept: cancelling never
// quarantines a well-behaved workflow.
func TestCancelledRunStopsInItsWorker(t *testing.T) {
	s, _ := newSupervisor(t, func(o *Options) { o.Workers = 1; o.Grace = 30e9 })
	req := busyRequest(60_000)
	req.WallTime = 120e9
	for i := range 5 {
		res := runCancelled(s, msgRun, req)
		if res.Status != workflow.StatusFailed || res.Error == nil || res.Error.Kind == workflow.KindSandboxCrashed {
			t.Fatalf("call %d: %+v", i, res.Error)
		}
	}
	if st := s.Stats(); len(st.Stopped) != 0 {
		t.Errorf("stats %+v: cancelled runs cost workers", st)
	}
	if q := s.Quarantines(); len(q) != 0 {
		t.Errorf("quarantined: %+v", q)
	}
	wantOK(t, s.Run(context.Background(), busyRequest(1)).Result)
}

// deepResponse is a Result nested n levels deep.
func deepResponse(n int) Response {
	var v any = 1
	for range n {
		v = []any{v}
	}
	return Response{Result: &workflow.Result{WorkflowID: "claims", Status: workflow.StatusSucceeded,
		AccessToken: &workflow.Token{CustomClaims: map[string]any{"deep": v}}, Logs: []workflow.Log{{Message: fmt.Sprint(n)}}}}
}
