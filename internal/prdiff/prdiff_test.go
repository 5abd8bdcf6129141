package prdiff

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

const env = "production"

const secretValue = "s3cr3t-value-that-must-stay-home"

// claims is addClaims: "plan" for kp_vip, "tag" from the API_KEY secret
// when tag is "secret", else tag itself.
func claims(vipPlan, tag string) string {
	tagExpr := `"` + tag + `"`
	if tag == "secret" {
		// Reversed, so no redaction of the value's spellings catches it:
		// only never having it does.
		tagExpr = `kinde.env.get("API_KEY").value.split("").reverse().join("")`
	}
	return `export const workflowSettings = {
  id: "addClaims", trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, "kinde.env": {} },
};
export default async function f(event: any) {
  const id = event.context.user.id;
  kinde.accessToken.setCustomClaim("plan", id === "kp_vip" ? "` + vipPlan + `" : "gold");
  kinde.accessToken.setCustomClaim("tag", ` + tagExpr + `);
}
declare const kinde: any;
`
}

const mfaWorkflow = `export const workflowSettings = {
  id: "mfaPolicy", trigger: "user:pre_mfa", bindings: { "kinde.mfa": {} },
};
export default async function f(event: any) { kinde.mfa.setEnforcementPolicy("required"); }
declare const kinde: any;
`

// repo writes a repository with the given workflow files.
func repo(t testing.TB, wfs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	fs := map[string]string{"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`}
	for name, code := range wfs {
		fs["kindeSrc/environment/workflows/"+name] = code
	}
	for p, s := range fs {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// world is a deploy service on SQLite whose live addClaims (plan
// "platinum" for kp_vip, tag "static") has two recorded calls, a secret
// API_KEY, and a differ replaying in an in-process sandbox.
func world(t testing.TB) (*deploy.Service, *Differ) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: arts, Cipher: cipher, DataDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NPM:    npm.Options{Registry: "http://127.0.0.1:1/", CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Run(ctx, deploy.SyncRequest{Env: env, Dir: repo(t, map[string]string{"addClaimsWorkflow.ts": claims("platinum", "static")}), CommitSHA: "c1"})
	if err != nil || res.Sync.Status != store.SyncSucceeded {
		t.Fatalf("sync: %v %+v", err, res)
	}
	if err := svc.PutVariable(ctx, env, "API_KEY", secretValue, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutRecordingSettings(ctx, env, recording.Settings{Enabled: true, Workflows: []string{"addClaims", "mfaPolicy"}, SampleRate: 1}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, u := range []string{"kp_1", "kp_vip"} {
		rec := replay.Recorded{ID: "rec_" + u, WorkflowID: "addClaims", Trigger: "user:tokens_generation", At: at.Add(time.Duration(i) * time.Second),
			Event: json.RawMessage(`{"request":{},"context":{"user":{"id":"` + u + `"}}}`)}
		if _, err := svc.AddRecording(ctx, env, rec, 100); err != nil {
			t.Fatal(err)
		}
	}
	runner := sandbox.NewInProcess(sandbox.Options{})
	t.Cleanup(func() { runner.Close() })
	d, err := New(Options{Source: svc, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	return svc, d
}

// build checks a candidate repository as a pull request's build.
func build(t testing.TB, wfs map[string]string) []invoke.Workflow {
	t.Helper()
	rep, err := project.Check(context.Background(), repo(t, wfs), project.Options{})
	if err != nil || !rep.OK() {
		t.Fatalf("candidate build: %v %v", err, rep.Diagnostics)
	}
	return Candidate(rep)
}

func TestRun(t *testing.T) {
	pct := func(v float64) *float64 { return &v }
	cases := []struct {
		name        string
		candidate   map[string]string
		only        string
		policy      *project.DiffPolicy
		note        string
		wantConcl   string
		wantTitle   string
		wantIn      []string
		wantChanged map[string]Share
	}{
		{name: "no change", candidate: map[string]string{"addClaimsWorkflow.ts": claims("platinum", "static")},
			wantConcl: Neutral, wantTitle: "No behaviour change", wantIn: []string{"**No behaviour change** in 2 recorded events"},
			wantChanged: map[string]Share{"addClaims": {Events: 2}}},
		{name: "one claim of two events", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			wantConcl: Neutral, wantTitle: "1 of 2 recorded events change outcome",
			wantIn:      []string{"**1 of 2 recorded events changed outcome.**", "| `rec_kp_vip` | `accessToken.plan` | `\"platinum\"` | `\"diamond\"` |"},
			wantChanged: map[string]Share{"addClaims": {Events: 2, Changed: 50}}},
		{name: "within the policy", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			policy: &project.DiffPolicy{MaxChangedPercent: pct(50)}, wantConcl: Success, wantTitle: "1 of 2 recorded events change outcome",
			wantIn: []string{"Within the policy", "more than 50% of a workflow's recorded events change outcome at all"}},
		{name: "over the policy", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			policy: &project.DiffPolicy{MaxChangedPercent: pct(49.5)}, wantConcl: Failure, wantTitle: "Policy exceeded: `addClaims` (50% of events changed)",
			wantIn: []string{"**Policy exceeded.**"}},
		{name: "zero fails any change", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			policy: &project.DiffPolicy{MaxChangedPercent: pct(0)}, wantConcl: Failure},
		{name: "zero passes no change", candidate: map[string]string{"addClaimsWorkflow.ts": claims("platinum", "static")},
			policy: &project.DiffPolicy{MaxChangedPercent: pct(0)}, wantConcl: Success},
		{name: "a claim is not a decision", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			policy: &project.DiffPolicy{MaxDecisionsChangedPercent: pct(0)}, wantConcl: Success,
			wantIn: []string{"more than 0% of a workflow's recorded events change an auth decision"}},
		{name: "no policy, and why", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			note: "the base commit's kinde.json could not be read", wantConcl: Neutral,
			wantIn: []string{"No policy applies: the base commit's kinde.json could not be read."}},
		{name: "a secret never reaches the candidate", candidate: map[string]string{"addClaimsWorkflow.ts": claims("platinum", "secret")},
			wantConcl: Neutral, wantTitle: "2 of 2 recorded events change outcome", wantIn: []string{"`accessToken.tag`", reverse(SecretStandIn("API_KEY"))}},
		{name: "a workflow with nothing recorded", candidate: map[string]string{"mfaPolicyWorkflow.ts": mfaWorkflow},
			wantConcl: Neutral, wantTitle: "Nothing recorded yet", wantIn: []string{"recording is on in `production` for `mfaPolicy`"}},
		{name: "one workflow only", only: "addClaims",
			candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static"), "mfaPolicyWorkflow.ts": mfaWorkflow},
			wantConcl: Neutral, wantTitle: "1 of 2 recorded events change outcome", wantIn: []string{"1 of 2"}},
		{name: "a workflow the build lacks", only: "nope", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			wantConcl: Neutral, wantTitle: "No workflow nope"},
		{name: "markdown in the asked id", only: "a`|b", candidate: map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")},
			wantConcl: Neutral, wantIn: []string{"no workflow `a'\\|b`"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, d := world(t)
			out, err := d.Run(context.Background(), Request{Env: env, Candidate: build(t, c.candidate), Only: c.only, Policy: c.policy, PolicyNote: c.note})
			if err != nil {
				t.Fatal(err)
			}
			if out.Conclusion != c.wantConcl || c.wantTitle != "" && out.Title != c.wantTitle {
				t.Fatalf("%s %q, want %s %q\n%s", out.Conclusion, out.Title, c.wantConcl, c.wantTitle, out.Summary)
			}
			for _, w := range c.wantIn {
				if !strings.Contains(out.Summary, w) {
					t.Errorf("summary lacks %q:\n%s", w, out.Summary)
				}
			}
			if strings.Contains(out.Summary, secretValue) || strings.Contains(out.Summary, reverse(secretValue)) || strings.Contains(out.Title, secretValue) {
				t.Fatalf("a secret value reached the report:\n%s", out.Summary)
			}
			for id, want := range c.wantChanged {
				if got := out.Changed[id]; got != want {
					t.Errorf("%s: %+v, want %+v", id, got, want)
				}
			}
		})
	}
}

// A workflow with recordings whose trigger has nothing live is listed as
// such; the others are still replayed.
func TestNoLiveDeployment(t *testing.T) {
	svc, d := world(t)
	ctx := context.Background()
	rec := replay.Recorded{ID: "rec_mfa", WorkflowID: "mfaPolicy", Trigger: "user:pre_mfa", At: time.Now().UTC(),
		Event: json.RawMessage(`{"request":{},"context":{"user":{"id":"kp_1"}}}`)}
	if _, err := svc.AddRecording(ctx, env, rec, 100); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		wfs       map[string]string
		wantTitle string
	}{
		{"alone", map[string]string{"mfaPolicyWorkflow.ts": mfaWorkflow}, "No live deployment to compare against"},
		{"beside a replayed one", map[string]string{"mfaPolicyWorkflow.ts": mfaWorkflow, "addClaimsWorkflow.ts": claims("platinum", "static")}, "No behaviour change"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := d.Run(ctx, Request{Env: env, Candidate: build(t, c.wfs)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Title != c.wantTitle || !strings.Contains(out.Summary, "`mfaPolicy`: no live deployment to compare against in `production`") {
				t.Fatalf("%q\n%s", out.Title, out.Summary)
			}
		})
	}
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// A replay cut short (the job's deadline, a shutdown) is no outcome: its
// unfinished runs would read as timeouts of the pull request's code.
func TestCancelledReplayIsNoOutcome(t *testing.T) {
	_, d := world(t)
	cand := build(t, map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := d.Run(ctx, Request{Env: env, Candidate: cand})
	if err == nil {
		t.Fatalf("a cancelled replay gave an outcome: %+v", out)
	}
}

// With nothing recorded, the check run says why, from the settings.
func TestNothingRecorded(t *testing.T) {
	cases := []struct {
		name      string
		settings  recording.Settings
		wantTitle string
		wantIn    []string
	}{
		{name: "off", settings: recording.Settings{Workflows: []string{"mfaPolicy"}}, wantTitle: "Recording is off",
			wantIn: []string{"recording is off in `production`", "Turn it on for `mfaPolicy`", "docs/recording.md#turning-it-on"}},
		{name: "on, not for it", settings: recording.Settings{Enabled: true, Workflows: []string{"addClaims"}}, wantTitle: "Recording is off for mfaPolicy",
			wantIn: []string{"recording is on in `production`, but not for `mfaPolicy`", "docs/recording.md#turning-it-on"}},
		{name: "on, nothing yet", settings: recording.Settings{Enabled: true, Workflows: []string{"mfaPolicy"}, SampleRate: 0.25}, wantTitle: "Nothing recorded yet",
			wantIn: []string{"one call in 4 is kept"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, d := world(t)
			if _, err := svc.PutRecordingSettings(context.Background(), env, c.settings); err != nil {
				t.Fatal(err)
			}
			out, err := d.Run(context.Background(), Request{Env: env, Candidate: build(t, map[string]string{"mfaPolicyWorkflow.ts": mfaWorkflow})})
			if err != nil {
				t.Fatal(err)
			}
			if out.Conclusion != Neutral || out.Title != c.wantTitle {
				t.Fatalf("%s %q, want neutral %q\n%s", out.Conclusion, out.Title, c.wantTitle, out.Summary)
			}
			for _, w := range c.wantIn {
				if !strings.Contains(out.Summary, w) {
					t.Errorf("summary lacks %q:\n%s", w, out.Summary)
				}
			}
		})
	}
}

// The base commit's policy is read only when something was replayed.
func TestLoadPolicyOnlyWhenReplayed(t *testing.T) {
	_, d := world(t)
	limit := 0.0
	for _, c := range []struct {
		name      string
		wfs       map[string]string
		wantCalls int
		wantConcl string
	}{
		{"nothing recorded", map[string]string{"mfaPolicyWorkflow.ts": mfaWorkflow}, 0, Neutral},
		{"replayed", map[string]string{"addClaimsWorkflow.ts": claims("diamond", "static")}, 1, Failure},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			load := func(context.Context) (*project.DiffPolicy, string, error) {
				calls++
				return &project.DiffPolicy{MaxChangedPercent: &limit}, "", nil
			}
			out, err := d.Run(context.Background(), Request{Env: env, Candidate: build(t, c.wfs), LoadPolicy: load})
			if err != nil {
				t.Fatal(err)
			}
			if calls != c.wantCalls || out.Conclusion != c.wantConcl {
				t.Fatalf("%d policy reads, %s; want %d, %s", calls, out.Conclusion, c.wantCalls, c.wantConcl)
			}
		})
	}
}
