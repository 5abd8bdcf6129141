package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

func TestMain(m *testing.M) {
	sandbox.MaybeWorker()
	os.Exit(m.Run())
}

func wf(id, trigger, code string, binds ...string) invoke.Workflow {
	s := workflow.Settings{ID: id, Trigger: trigger, Bindings: map[string]workflow.BindingSettings{}}
	for _, b := range binds {
		s.Bindings[b] = workflow.BindingSettings{}
	}
	return invoke.Workflow{Settings: s, Code: []byte(code)}
}

// The baseline: claims from the event and a recorded fetch.
const claimsBase = `module.exports.default = async function (event) {
  const u = event.context.user;
  const r = await kinde.fetch("https://billing.example.com/plan?u=" + u.id, {method: "GET"});
  kinde.accessToken.setCustomClaim("plan", r.json.plan);
  kinde.accessToken.setCustomClaim("region", "eu");
  kinde.accessToken.setCustomClaim("org", {id: "o1", roles: ["a"]});
  console.log("noise that is not behaviour", Math.random());
};`

// The candidate: adds a claim, drops one, changes a nested one, and
// denies one user.
const claimsCand = `module.exports.default = async function (event) {
  const u = event.context.user;
  const r = await kinde.fetch("https://billing.example.com/plan?u=" + u.id, {method: "GET"});
  kinde.accessToken.setCustomClaim("plan", r.json.plan);
  kinde.accessToken.setCustomClaim("tier", r.json.plan === "pro" ? 2 : 1);
  kinde.accessToken.setCustomClaim("org", {id: "o1", roles: ["a", "b"]});
  if (u.id === "kp_blocked") kinde.auth.denyAccess("blocked by policy");
};`

const mfaBase = `module.exports.default = async function (event) { kinde.mfa.setEnforcementPolicy("skip"); };`
const mfaCand = `module.exports.default = async function (event) {
  if (event.context.user.id === "kp_2") kinde.mfa.setEnforcementPolicy("required");
  else kinde.mfa.setEnforcementPolicy("skip");
};`

func event(id, wfID, trigger, user, plan string) Recorded {
	ev := Recorded{ID: id, WorkflowID: wfID, Trigger: trigger, At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Event: json.RawMessage(`{"request":{},"context":{"user":{"id":"` + user + `"}}}`)}
	if plan != "" {
		ev.Fetch = []httpstub.Stub{{Method: "GET", URL: "https://billing.example.com/plan?u=" + user, Status: 200,
			Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"plan":"` + plan + `"}`}}
	}
	return ev
}

func TestRunDiffsBehaviourNotNoise(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	base := []invoke.Workflow{
		wf("addClaims", workflow.UserTokenGeneration, claimsBase, workflow.BindAccessToken, workflow.BindFetch),
		wf("mfa", workflow.UserPreMFA, mfaBase, workflow.BindMFA),
	}
	cand := []invoke.Workflow{
		wf("addClaims", workflow.UserTokenGeneration, claimsCand, workflow.BindAccessToken, workflow.BindFetch, workflow.BindAuth),
		wf("mfa", workflow.UserPreMFA, mfaCand, workflow.BindMFA),
	}
	events := []Recorded{
		event("ev_1", "addClaims", workflow.UserTokenGeneration, "kp_1", "pro"),
		event("ev_2", "addClaims", workflow.UserTokenGeneration, "kp_blocked", "free"),
		event("ev_3", "addClaims", workflow.UserTokenGeneration, "kp_3", ""), // no recording: the fetch is refused
		event("ev_4", "mfa", workflow.UserPreMFA, "kp_1", ""),
		event("ev_5", "mfa", workflow.UserPreMFA, "kp_2", ""),
	}
	rep := Run(context.Background(), runner, Input{Candidate: cand, Baseline: base, Events: events})
	if !rep.Changed() || rep.Events != 5 || len(rep.Workflows) != 2 {
		t.Fatalf("report %+v", rep)
	}
	claims, mfa := rep.Workflows[0], rep.Workflows[1]
	if claims.WorkflowID != "addClaims" || mfa.WorkflowID != "mfa" {
		t.Fatalf("workflows not sorted: %s, %s", claims.WorkflowID, mfa.WorkflowID)
	}
	// ev_3 fails on both sides (refused fetch, thrown): no change there.
	if claims.Events != 3 || claims.Changed != 2 || claims.DecisionsChanged != 1 || claims.Refused != 2 {
		t.Errorf("addClaims: events %d changed %d decisions %d refused %d", claims.Events, claims.Changed, claims.DecisionsChanged, claims.Refused)
	}
	// A refused fetch throws a binding error the workflow does not catch.
	if claims.CandidateFailures[workflow.KindBinding] != 1 || claims.BaselineFailures[workflow.KindBinding] != 1 {
		t.Errorf("failures: candidate %v baseline %v", claims.CandidateFailures, claims.BaselineFailures)
	}
	wantCats := map[Category]int{CatDenial: 2, CatClaimAdded: 2, CatClaimRemoved: 2, CatClaimChanged: 2}
	for _, c := range Categories {
		if claims.Categories[c] != wantCats[c] {
			t.Errorf("addClaims %s = %d, want %d (%v)", c, claims.Categories[c], wantCats[c], claims.Categories)
		}
	}
	var got []string
	for _, d := range claims.Diffs {
		got = append(got, d.EventID+" "+d.Path+" "+d.Before+" → "+d.After)
	}
	want := []string{
		`ev_1 accessToken.org.roles ["a"] → ["a","b"]`,
		`ev_1 accessToken.region "eu" → `,
		`ev_1 accessToken.tier  → 2`,
		`ev_2 auth.denied false → true`,
		`ev_2 auth.reason  → "blocked by policy"`,
		`ev_2 accessToken.org.roles ["a"] → ["a","b"]`,
		`ev_2 accessToken.region "eu" → `,
		`ev_2 accessToken.tier  → 1`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diffs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if mfa.Changed != 1 || mfa.DecisionsChanged != 1 || len(mfa.Diffs) != 1 || mfa.Diffs[0].Path != "mfa.enforcementPolicy" ||
		mfa.Diffs[0].Before != `"skip"` || mfa.Diffs[0].After != `"required"` || mfa.ChangedPercent != 50 {
		t.Errorf("mfa: %+v", mfa)
	}
	// The same input gives the same report, whatever the scheduling.
	again := Run(context.Background(), runner, Input{Candidate: cand, Baseline: base, Events: events, Concurrency: 1})
	if a, b := again.Text(), rep.Text(); stripDurations(a) != stripDurations(b) {
		t.Errorf("not deterministic:\n%s\n---\n%s", a, b)
	}
}

func TestRunSameBuildIsNoChange(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	b := []invoke.Workflow{wf("addClaims", workflow.UserTokenGeneration, claimsBase, workflow.BindAccessToken, workflow.BindFetch)}
	rep := Run(context.Background(), runner, Input{Candidate: b, Baseline: b, Events: []Recorded{
		event("ev_1", "addClaims", workflow.UserTokenGeneration, "kp_1", "pro"),
	}})
	if rep.Changed() || rep.Workflows[0].Changed != 0 {
		t.Fatalf("same build changed: %+v", rep.Workflows)
	}
	if md := rep.Markdown(); !strings.Contains(md, "No behaviour change") {
		t.Errorf("markdown: %s", md)
	}
}

// TestRunRouting: the recorded workflow id first, then the trigger; an
// event no build handles is counted, not an error.
func TestRunRouting(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	b := []invoke.Workflow{wf("renamed", workflow.UserPreMFA, mfaBase, workflow.BindMFA)}
	c := []invoke.Workflow{wf("renamed", workflow.UserPreMFA, `module.exports.default = async () => { kinde.mfa.setEnforcementPolicy("required"); };`, workflow.BindMFA)}
	rep := Run(context.Background(), runner, Input{Candidate: c, Baseline: b, Events: []Recorded{
		event("ev_old_id", "oldName", workflow.UserPreMFA, "kp_1", ""),              // id matches nothing: by trigger
		event("ev_nothing", "ghost", workflow.PlanSelection, "kp_1", ""),            // nothing handles it
		event("ev_no_trigger", "ghost2", "", "kp_1", ""),                            // neither id nor trigger matches
		{ID: "ev_hostile_id", WorkflowID: "x\n|`<b>", Event: json.RawMessage(`{}`)}, // odd id, no trigger
		{ID: "ev_nameless", Event: json.RawMessage(`{}`)},                           // neither id nor trigger
	}})
	if rep.Unrouted != 4 {
		t.Errorf("unrouted %d, want 4", rep.Unrouted)
	}
	byID := map[string]WorkflowReport{}
	for _, w := range rep.Workflows {
		byID[w.WorkflowID] = w
	}
	if w := byID["oldName"]; w.Changed != 1 || len(w.Diffs) != 1 || w.Diffs[0].After != `"required"` {
		t.Errorf("oldName routed by trigger: %+v", w)
	}
	for _, id := range []string{"ghost", "ghost2", "x\n|`<b>", NoWorkflowID} {
		if w := byID[id]; w.Events != 1 || w.Changed != 0 {
			t.Errorf("%q: %+v", id, w)
		}
	}
	// One line, the pipe escaped, inside a code span (where <b> is text).
	if md := rep.Markdown(); !strings.Contains(md, "### ``x\uFFFD\\|`<b>``\n") {
		t.Errorf("hostile id not neutralised in the Markdown:\n%s", md)
	}
}

// TestRunNeverReachesTheNetwork: recorded answers with hostile URLs are
// answered from the recording; nothing is dialled, not even a URL the
// recording names.
func TestRunNeverReachesTheNetwork(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	code := `module.exports.default = async function (event) {
  for (const u of event.context.urls) {
    try { const r = await kinde.fetch(u, {method: "GET", responseFormat: "text"}); kinde.accessToken.setCustomClaim("n" + u.length, r.data); }
    catch (e) { kinde.accessToken.setCustomClaim("err" + u.length, "refused"); }
  }
};`
	urls := []string{srv.URL + "/live", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:1/%0d%0aX-Injected:%201",
		"https://example.com/" + strings.Repeat("a", 5000), "https://user:pw@example.com/?q=<script>"}
	var fetch []httpstub.Stub
	for _, u := range urls[1:] { // the live server's URL is not recorded
		fetch = append(fetch, httpstub.Stub{Method: "GET", URL: u, Status: 200, Body: "recorded"})
	}
	// A recorded redirect loop, a redirect to a file: URL, statuses no
	// server sends.
	urls = append(urls, "https://loop.example.com/a", "https://jump.example.com/", "https://odd.example.com/0", "https://odd.example.com/-1", "https://odd.example.com/99999")
	for _, st := range []int{0, -1, 99999} {
		fetch = append(fetch, httpstub.Stub{Method: "GET", URL: fmt.Sprintf("https://odd.example.com/%d", st), Status: st, Body: "odd"})
	}
	fetch = append(fetch, httpstub.Stub{Method: "GET", URL: "https://loop.example.com/a", Status: 302, Headers: map[string]string{"Location": "/a"}},
		httpstub.Stub{Method: "GET", URL: "https://jump.example.com/", Status: 302, Headers: map[string]string{"Location": "file:///etc/passwd"}})
	fetch = append(fetch, httpstub.Stub{Method: "GET", URL: "file:///etc/passwd", Status: 200, Body: "x"},
		httpstub.Stub{Method: "GET\r\nX: y", URL: "javascript:alert(1)", Status: 200})
	ev, _ := json.Marshal(map[string]any{"context": map[string]any{"urls": urls}})
	w := []invoke.Workflow{wf("t", workflow.UserTokenGeneration, code, workflow.BindAccessToken, workflow.BindFetch)}
	rep := Run(context.Background(), runner, Input{Candidate: w, Baseline: w, Events: []Recorded{
		{ID: "ev", WorkflowID: "t", Trigger: workflow.UserTokenGeneration, Event: ev, Fetch: fetch}}})
	if hits.Load() != 0 {
		t.Fatalf("the replay reached the network %d times", hits.Load())
	}
	got := rep.Workflows[0]
	if got.Refused != 4 || got.Changed != 0 {
		t.Errorf("refused %d (want 4: on each side, the unrecorded URL and the one the URL parser spells differently), changed %d", got.Refused, got.Changed)
	}
}

// TestRunCandidateFailuresAreKinds: a candidate that times out or crashes
// its worker is a failure kind in the report; the replay goes on.
func TestRunCandidateFailuresAreKinds(t *testing.T) {
	sup, err := sandbox.NewSupervisor(sandbox.Options{Workers: 2, MemoryCeiling: 256 << 20, Grace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	base := []invoke.Workflow{wf("w", workflow.UserPreMFA, mfaBase, workflow.BindMFA)}
	cand := []invoke.Workflow{wf("w", workflow.UserPreMFA, `module.exports.default = async function (event) {
  const id = event.context.user.id;
  if (id === "spin") { for (;;) {} }
  if (id === "hog") { const a = []; for (;;) a.push(new Array(1e7).fill(id)); }
  kinde.mfa.setEnforcementPolicy("skip");
};`, workflow.BindMFA)}
	// The spin never ends: the wall time stops it, however loaded the
	// machine. The hog is stopped by memory; its wall time is long so that
	// load cannot make it a timeout.
	spin := Run(context.Background(), sup, Input{Candidate: cand, Baseline: base, WallTime: 2 * time.Second, Events: []Recorded{
		event("ev_spin", "w", workflow.UserPreMFA, "spin", ""),
	}})
	rest := Run(context.Background(), sup, Input{Candidate: cand, Baseline: base, WallTime: 30 * time.Second, Events: []Recorded{
		event("ev_hog", "w", workflow.UserPreMFA, "hog", ""),
		event("ev_ok", "w", workflow.UserPreMFA, "ok", ""),
	}})
	for _, c := range []struct {
		rep    *Report
		kind   workflow.ErrorKind
		events int
	}{{spin, workflow.KindTimeout, 1}, {rest, workflow.KindMemory, 2}} {
		w := c.rep.Workflows[0]
		if w.Events != c.events || w.CandidateFailures[c.kind] != 1 || len(w.CandidateFailures) != 1 {
			t.Fatalf("want one %s: %+v", c.kind, w)
		}
		if len(w.BaselineFailures) != 0 {
			// The trivial baseline ran out of wall time on a very loaded
			// machine: then there is no change to check.
			t.Logf("baseline failed: %v", w.BaselineFailures)
			continue
		}
		if d := w.Diffs[0]; w.Changed != 1 || d.Path != "status" || d.Before != "succeeded" || d.After != "failed ("+string(c.kind)+")" {
			t.Errorf("changed %d, first diff %+v", w.Changed, d)
		}
	}
}

// TestRunHostileEvents: a huge event and a deeply nested one fail or run
// on their own; neither stops the replay nor leaks into the report.
func TestRunHostileEvents(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	huge := `{"context":{"user":{"id":"` + strings.Repeat("x", 8<<20) + `"}}}`
	code := `module.exports.default = async function (event) { kinde.accessToken.setCustomClaim("id", String(event.context && event.context.user && event.context.user.id).slice(0, 3)); };`
	w := []invoke.Workflow{wf("t", workflow.UserTokenGeneration, code, workflow.BindAccessToken)}
	rep := Run(context.Background(), runner, Input{Candidate: w, Baseline: w, Events: []Recorded{
		{ID: "deep", WorkflowID: "t", Event: json.RawMessage(deep)},
		{ID: "huge", WorkflowID: "t", Event: json.RawMessage(huge)},
		{ID: "ok", WorkflowID: "t", Event: json.RawMessage(`{"context":{"user":{"id":"kp_1"}}}`)},
	}})
	if rep.Events != 3 || rep.Workflows[0].Events != 3 || rep.Changed() {
		t.Errorf("report %+v", rep.Workflows)
	}
	if len(rep.Text()) > 4096 {
		t.Errorf("the report grew with the events: %d bytes", len(rep.Text()))
	}
}

// TestRunRedactsSecretsFromDiffs: a claim holding a secret variable's value
// shows redacted, even when the value is cut.
func TestRunRedactsSecretsFromDiffs(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	secret := "sk_live_" + strings.Repeat("9", 100)
	base := []invoke.Workflow{wf("t", workflow.UserTokenGeneration, `module.exports.default = async () => {};`, workflow.BindAccessToken)}
	cand := []invoke.Workflow{wf("t", workflow.UserTokenGeneration, `module.exports.default = async () => {
  const s = kinde.env.get("KEY").value; kinde.accessToken.setCustomClaim("k", {v: s.split("").reverse().join("").split("").reverse().join("")});
};`, workflow.BindAccessToken, workflow.BindEnv)}
	rep := Run(context.Background(), runner, Input{Candidate: cand, Baseline: base,
		Env:    map[string]bindings.EnvVar{"KEY": {Value: secret, IsSecret: true}},
		Events: []Recorded{{ID: "e", WorkflowID: "t", Event: json.RawMessage(`{}`)}}})
	for _, out := range []string{rep.Text(), rep.Markdown()} {
		if strings.Contains(out, "sk_live_99") {
			t.Errorf("secret in the report:\n%s", out)
		}
	}
}

func TestSameValue(t *testing.T) {
	for _, c := range []struct {
		a, b any
		same bool
	}{
		{nil, nil, true}, {1.0, 1.0, true}, {1.0, "1", false}, {"a", "a", true},
		{[]any{1.0, "x"}, []any{1.0, "x"}, true}, {[]any{1.0}, []any{1.0, 2.0}, false}, {[]any{}, []any(nil), false},
		{map[string]any{"a": []any{true}}, map[string]any{"a": []any{true}}, true},
		{map[string]any{"a": 1.0}, map[string]any{"b": 1.0}, false}, {map[string]any{}, nil, false},
		{0.0, math.Copysign(0, -1), false}, // -0 prints as -0 in a token: a different value
	} {
		if got := sameValue(c.a, c.b, 0); got != c.same {
			t.Errorf("sameValue(%#v, %#v) = %v", c.a, c.b, got)
		}
		if want := fullJSON(c.a) == fullJSON(c.b); want != c.same {
			t.Errorf("case %#v/%#v: JSON says %v", c.a, c.b, want)
		}
	}
}
