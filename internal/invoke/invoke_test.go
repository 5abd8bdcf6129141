package invoke

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// A workflow that copies the event's password into every place it can
// write: logs (plain and JSON), the form-field message, the thrown error,
// and a fetch URL no stub answers.
const leakyCode = `
exports.default = async function (event) {
  const a = event.context.auth;
  const pw = a.password || a.firstPassword;
  console.log("checking " + pw);
  console.error(JSON.stringify(a));
  try { kinde.fetch("https://api.example.com/check?pw=" + encodeURIComponent(pw), {method: "GET"}); } catch (e) { console.warn(String(e)); }
  kinde.widget.invalidateFormField("p_password", pw + " is too weak");
  if (a.throwIt) throw new Error("rejected " + pw);
};`

const okCode = `exports.default = async function (event) { console.log("hello " + event.context.user.id); };`

func settings(id, trigger string, bindings ...string) workflow.Settings {
	s := workflow.Settings{ID: id, Trigger: trigger, Bindings: map[string]workflow.BindingSettings{}}
	for _, b := range bindings {
		s.Bindings[b] = workflow.BindingSettings{}
	}
	return s
}

func build() []Workflow {
	return []Workflow{
		{Settings: settings("tokens", workflow.UserTokenGeneration), Code: []byte(okCode)},
		{Settings: settings("newPw", workflow.NewPasswordProvided, workflow.BindWidget, workflow.BindFetch), Code: []byte(leakyCode)},
		{Settings: settings("oldPw", workflow.ExistingPasswordProvided, workflow.BindWidget, workflow.BindFetch), Code: []byte(leakyCode)},
		{Settings: settings("broken", workflow.UserPreMFA), Code: []byte("exports.default = function ( {")},
	}
}

func TestRun(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	const pw = "Tr0ub4dor&3-\"quoted\""
	cases := []struct {
		name      string
		req       Request
		status    string
		kind      workflow.ErrorKind
		id        string
		contains  []string // in the Result JSON
		secret    string   // never in the Result JSON nor Unmatched
		unmatched int
	}{
		{name: "by trigger", req: Request{Trigger: workflow.UserTokenGeneration, Event: []byte(`{"context": {"user": {"id": "kp_1"}}}`)},
			status: workflow.StatusSucceeded, id: "tokens", contains: []string{`"message":"hello kp_1"`}},
		{name: "by id", req: Request{WorkflowID: "tokens", Event: []byte(`{"context": {"user": {"id": "kp_2"}}}`)},
			status: workflow.StatusSucceeded, id: "tokens", contains: []string{"hello kp_2"}},
		{name: "skipped: no workflow for the trigger", req: Request{Trigger: workflow.PlanSelection, Event: []byte(`{}`)},
			status: workflow.StatusSkipped, contains: []string{`"trigger":"user:plan_selection"`}},
		{name: "skipped: id and trigger disagree", req: Request{Trigger: workflow.PlanSelection, WorkflowID: "tokens", Event: []byte(`{}`)},
			status: workflow.StatusSkipped},
		{name: "skipped: unknown id", req: Request{WorkflowID: "nope", Event: []byte(`{}`)}, status: workflow.StatusSkipped},
		{name: "load failure has kind load", req: Request{Trigger: workflow.UserPreMFA, Event: []byte(`{}`)},
			status: workflow.StatusFailed, kind: workflow.KindLoad, id: "broken", contains: []string{`"failurePolicy":"stop"`}},
		{name: "new password redacted everywhere", req: Request{Trigger: workflow.NewPasswordProvided, Stubs: []httpstub.Stub{},
			Event: eventWith(t, map[string]any{"firstPassword": pw, "secondPassword": pw})},
			status: workflow.StatusSucceeded, id: "newPw", secret: pw, unmatched: 1,
			contains: []string{`"checking ***"`, `"p_password":"*** is too weak"`}},
		{name: "existing password redacted from the thrown error", req: Request{Trigger: workflow.ExistingPasswordProvided, Stubs: []httpstub.Stub{},
			Event: eventWith(t, map[string]any{"password": pw, "throwIt": true})},
			status: workflow.StatusFailed, id: "oldPw", secret: pw, unmatched: 1, contains: []string{"rejected ***"}},
		{name: "hashed password redacted", req: Request{Trigger: workflow.ExistingPasswordProvided, Stubs: []httpstub.Stub{},
			Event: eventWith(t, map[string]any{"password": "plain-pass-123", "hashedPassword": "$2a$10$abcdefghij"})},
			status: workflow.StatusSucceeded, id: "oldPw", secret: "abcdefghij", unmatched: 1},
		{name: "secret env values redacted too", req: Request{Trigger: workflow.UserTokenGeneration,
			Env: map[string]bindings.EnvVar{"K": {Value: "kp_secret_9", IsSecret: true}}, Event: []byte(`{"context": {"user": {"id": "kp_secret_9"}}}`)},
			status: workflow.StatusSucceeded, id: "tokens", secret: "kp_secret_9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.Workflows = build()
			resp := Run(context.Background(), runner, c.req)
			res := resp.Result
			out, _ := json.Marshal(res)
			if res.Status != c.status {
				t.Fatalf("status %s, want %s: %s", res.Status, c.status, out)
			}
			if res.WorkflowID != c.id {
				t.Errorf("workflowId %q, want %q", res.WorkflowID, c.id)
			}
			if c.kind != "" && (res.Error == nil || res.Error.Kind != c.kind) {
				t.Errorf("error %+v, want kind %s", res.Error, c.kind)
			}
			if res.Status == workflow.StatusSkipped && (res.Error != nil || res.WorkflowID != "" || c.req.Trigger != res.Trigger) {
				t.Errorf("skipped Result carries more than the trigger: %s", out)
			}
			for _, want := range c.contains {
				if !strings.Contains(string(out), want) {
					t.Errorf("Result lacks %s: %s", want, out)
				}
			}
			if len(resp.Unmatched) != c.unmatched {
				t.Errorf("unmatched %q, want %d", resp.Unmatched, c.unmatched)
			}
			if c.secret != "" {
				for _, leak := range leakForms(c.secret) {
					if strings.Contains(string(out), leak) || strings.Contains(strings.Join(resp.Unmatched, "\n"), leak) {
						t.Errorf("%q leaked:\n%s\nunmatched: %q", leak, out, resp.Unmatched)
					}
				}
			}
		})
	}
}

// leakForms are the spellings a password could leak in: raw, JSON-escaped
// and URL-encoded.
func leakForms(s string) []string {
	b, _ := json.Marshal(s)
	return []string{s, strings.Trim(string(b), `"`), strings.ReplaceAll(s, "&", "%26")}
}

func eventWith(t *testing.T, auth map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"context": map[string]any{"auth": auth}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeRunner answers every Run with a fixed Response and records the
// request; it stands for a Supervisor whose worker died, timed out, …
type fakeRunner struct {
	resp sandbox.Response
	got  *sandbox.Request
}

func (f *fakeRunner) Run(_ context.Context, req *sandbox.Request) sandbox.Response {
	f.got = req
	return f.resp
}
func (f *fakeRunner) ReadSettings(context.Context, project.InspectInput) project.Introspection {
	return project.Introspection{}
}
func (f *fakeRunner) Close() error { return nil }

// TestRunPassesKindsThrough: whatever kind the runner reports reaches the
// caller unchanged, with the password gone from its message; a runner that
// returns no Result is an internal failure, not a panic.
func TestRunPassesKindsThrough(t *testing.T) {
	kinds := []workflow.ErrorKind{workflow.KindThrown, workflow.KindTimeout, workflow.KindMemory, workflow.KindCallDepth,
		workflow.KindResultTooLarge, workflow.KindBinding, workflow.KindLoad, workflow.KindSandboxCrashed,
		workflow.KindNeverSettled, workflow.KindQuarantined, workflow.KindInternal}
	s := settings("newPw", workflow.NewPasswordProvided)
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			f := &fakeRunner{resp: sandbox.Response{Result: workflow.Failed(s, k, "worker said hunter2000")}}
			resp := Run(context.Background(), f, Request{Workflows: []Workflow{{Settings: s}}, Trigger: s.Trigger,
				Event: []byte(`{"context": {"auth": {"firstPassword": "hunter2000"}}}`), CacheScope: "prod"})
			if resp.Result.Error.Kind != k || resp.Result.Error.Message != "worker said ***" {
				t.Errorf("error = %+v", resp.Result.Error)
			}
			if f.got == nil || len(f.got.Redact) != 1 || f.got.Redact[0] != "hunter2000" || f.got.CacheScope != "prod" || f.got.Stubs != nil {
				t.Errorf("runner got %+v", f.got)
			}
		})
	}
	t.Run("no result", func(t *testing.T) {
		resp := Run(context.Background(), &fakeRunner{}, Request{Workflows: []Workflow{{Settings: s}}, Trigger: s.Trigger})
		if r := resp.Result; r.Status != workflow.StatusFailed || r.Error.Kind != workflow.KindInternal || r.WorkflowID != "newPw" {
			t.Errorf("result = %+v", r)
		}
	})
}

func TestPick(t *testing.T) {
	ws := build()
	if w := Pick(ws, "", ""); w != nil {
		t.Errorf("Pick of nothing = %s", w.Settings.ID)
	}
	if w := Pick(ws, workflow.ExistingPasswordProvided, ""); w == nil || w.Settings.ID != "oldPw" {
		t.Errorf("Pick by trigger = %v", w)
	}
	if w := Pick(ws, workflow.ExistingPasswordProvided, "oldPw"); w == nil || w.Settings.ID != "oldPw" {
		t.Errorf("Pick by both = %v", w)
	}
}
