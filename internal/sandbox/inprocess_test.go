package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/workflow"
)

func TestInProcessWallTimesAndClose(t *testing.T) {
	p := newInProcess(Options{})
	// More distinct wall times than engines are cached: the extra ones run
	// on one-off engines and are closed after their run.
	for i := range maxEngines + 3 {
		req := claimsRequest()
		req.WallTime = time.Second + time.Duration(i)*time.Millisecond
		wantOK(t, p.Run(context.Background(), req).Result)
	}
	p.mu.Lock()
	n := len(p.engines)
	p.mu.Unlock()
	if n != maxEngines {
		t.Errorf("%d engines cached, want the cap %d", n, maxEngines)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	wantKind(t, p.Run(context.Background(), claimsRequest()).Result, workflow.KindInternal)
	if err := p.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
}

func TestInProcessStubsAreNotTheNetwork(t *testing.T) {
	p := patientInProcess()
	defer p.Close()
	req := &Request{
		Settings: workflow.Settings{ID: "f", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindFetch: {}}},
		Code: []byte(`module.exports.default = async function () {
  await kinde.fetch("http://127.0.0.1:1/nothing-listens", {method: "GET"});
};`),
		Stubs: []httpstub.Stub{}, // stubbed, and no stub matches: the request never leaves
	}
	resp := p.Run(context.Background(), req)
	if resp.Result.Status != workflow.StatusFailed || len(resp.Unmatched) != 1 {
		t.Fatalf("result %+v, unmatched %q", resp.Result, resp.Unmatched)
	}
}
