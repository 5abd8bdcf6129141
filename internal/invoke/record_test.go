package invoke

import (
	"context"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// TestRecordPassesThroughRedacted: Record reaches the runner, and the
// recorded answers come back without the event's passwords or the secret
// variables in any spelling the redaction knows (URL, body, headers).
func TestRecordPassesThroughRedacted(t *testing.T) {
	const pw, secret = "hunter2000&x", "sk_live_42"
	s := settings("newPw", workflow.NewPasswordProvided)
	f := &fakeRunner{resp: sandbox.Response{Result: &workflow.Result{Status: workflow.StatusSucceeded}, Fetch: []httpstub.Stub{{
		Method: "GET", URL: "https://api.example.com/?pw=hunter2000%26x&k=" + secret, Status: 200,
		Headers: map[string]string{"Location": "/" + secret}, Body: `{"echo":"hunter2000&x","key":"` + secret + `"}`,
	}}}}
	resp := Run(context.Background(), f, Request{Workflows: []Workflow{{Settings: s}}, Trigger: s.Trigger, Record: true,
		Env:   map[string]bindings.EnvVar{"K": {Value: secret, IsSecret: true}},
		Event: []byte(`{"context": {"auth": {"firstPassword": "hunter2000&x"}}}`)})
	if f.got == nil || !f.got.Record {
		t.Fatalf("runner got Record=false")
	}
	if len(resp.Fetch) != 1 {
		t.Fatalf("fetch = %+v", resp.Fetch)
	}
	got := resp.Fetch[0]
	all := got.URL + "\n" + got.Body + "\n" + got.Headers["Location"]
	for _, leak := range append(leakForms(pw), secret) {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked into the recording: %s", leak, all)
		}
	}
	if got.Method != "GET" || got.Status != 200 || !strings.HasPrefix(got.URL, "https://api.example.com/") {
		t.Errorf("recording changed beyond redaction: %+v", got)
	}
}
