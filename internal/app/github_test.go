package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/githubapp"
	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/store/storetest"
	"github.com/flowgate/flowgate/internal/testenv"
)

// ghRepo is the local GitHub's repository (githubtest.Start); the app
// checks deliveries against ghSecret.
const (
	ghRepo    = githubtest.Repo
	ghSecret  = "webhook secret for tests"
	ghWfPath  = "kindeSrc/environment/workflows/tokens/addClaimsWorkflow.ts"
	ghTimeout = 60 * time.Second
)

// ghWorld is the local GitHub plus what the app needs to talk to it.
type ghWorld struct {
	t   *testing.T
	gh  *githubtest.Server
	cfg Config
	seq atomic.Int64
}

func newGHWorld(t *testing.T) *ghWorld {
	t.Helper()
	gh := githubtest.Start(t)
	cfg := Config{DataDir: t.TempDir(), Isolation: "process", Workers: 1,
		GitHubAppID: gh.AppID, GitHubPrivateKey: string(gh.PEM()), GitHubWebhookSecret: ghSecret, GitHubAPIURL: gh.URL,
		NPMRegistry: "http://127.0.0.1:1/"}
	return &ghWorld{t: t, gh: gh, cfg: cfg}
}

// payload is a real payload re-aimed at the test repository, with set
// (dotted paths) applied.
func (w *ghWorld) payload(event, action string, set map[string]any) []byte {
	w.t.Helper()
	return githubtest.Webhook(w.t, event, action, set)
}

// pushPayload is a real push of commit after to main that changes the
// workflow.
func (w *ghWorld) pushPayload(after string) []byte {
	w.t.Helper()
	return githubtest.Push(w.t, after, []string{ghWfPath}, nil)
}

// commit serves a starter repository with plan as the commit named label.
func (w *ghWorld) commit(label, plan string, broken bool) string {
	w.t.Helper()
	code := `export const workflowSettings = {
  id: "addClaims",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {} },
};

export default async function addClaims(event: any) {
  kinde.accessToken.setCustomClaim("plan", "` + plan + `");
}
declare const kinde: any;
`
	if broken {
		code = strings.Replace(code, `"`+plan+`");`, `"`+plan+`";`, 1)
	}
	return w.commitFiles(label, map[string]string{"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`, ghWfPath: code})
}

// commitFiles serves files as the commit named label of the test
// repository.
func (w *ghWorld) commitFiles(label string, fs map[string]string) string {
	w.t.Helper()
	sha := githubtest.SHA(label)
	w.gh.Commit(w.t, ghRepo, sha, fs)
	return sha
}

// post sends a signed delivery (sig overrides the signature) and returns
// the status.
func (w *ghWorld) post(base, id, event string, body []byte, sig string) int {
	w.t.Helper()
	if id == "" {
		id = fmt.Sprintf("delivery-%d", w.seq.Add(1))
	}
	req := githubtest.Delivery(base+"/webhooks/github", event, id, body, []byte(ghSecret))
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (w *ghWorld) checks(sha string) map[string]githubtest.CheckRun {
	return w.gh.Checks(ghRepo, sha)
}

func liveOf(a *App, wf string) string {
	w, err := a.Deploy().Workflow(context.Background(), "production", wf)
	if err != nil {
		return ""
	}
	return w.LiveDeploymentID
}

func completed(w *ghWorld, sha string) func() (bool, string) {
	return func() (bool, string) {
		cs := w.checks(sha)
		b, s := cs[githubapp.CheckBuild], cs[githubapp.CheckSync]
		return b.Status == "completed" && s.Status == "completed", fmt.Sprintf("sync %s/%s build %s/%s", s.Status, s.Conclusion, b.Status, b.Conclusion)
	}
}

// TestGitHubAppEndToEnd is the "done when", against the local
// GitHub: push → 202 → live → green checks; broken push → red with
// annotations, nothing live changed; a PR checked, never deployed;
// /rollback from a writer flips back and says so, from a reader refused;
// forged and replayed deliveries do nothing; every flip a Deployment.
func TestGitHubAppEndToEnd(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	r := start(t, w.cfg)
	base := r.URL()

	// 1. A push: acknowledged at once, live, green.
	one := w.commit("one", "gold", false)
	if st := w.post(base, "", "push", w.pushPayload(one), ""); st != http.StatusAccepted {
		t.Fatalf("push answered %d, want 202", st)
	}
	eventually(t, "first push completes", ghTimeout, completed(w, one))
	first := liveOf(r.App, "addClaims")
	if first == "" {
		t.Fatal("the push did not go live")
	}
	for n, c := range w.checks(one) {
		if c.Conclusion != "success" {
			t.Errorf("%s: %s\n%s", n, c.Conclusion, c.Summary)
		}
	}

	// 2. A second good push, so there is something to roll back to.
	two := w.commit("two", "platinum", false)
	w.post(base, "", "push", w.pushPayload(two), "")
	eventually(t, "second push completes", ghTimeout, completed(w, two))
	second := liveOf(r.App, "addClaims")
	if second == "" || second == first {
		t.Fatalf("second push: live %q (first %q)", second, first)
	}

	// 3. A broken push: red build, annotation on the line, live unchanged.
	bad := w.commit("bad", "silver", true)
	w.post(base, "", "push", w.pushPayload(bad), "")
	eventually(t, "broken push completes", ghTimeout, completed(w, bad))
	b := w.checks(bad)[githubapp.CheckBuild]
	if b.Conclusion != "failure" || len(b.Annotations) == 0 || b.Annotations[0]["path"] != ghWfPath || fmt.Sprint(b.Annotations[0]["start_line"]) != "8" {
		t.Fatalf("broken build check: %s, annotations %v", b.Conclusion, b.Annotations)
	}
	if got := liveOf(r.App, "addClaims"); got != second {
		t.Fatalf("a broken push moved live to %s", got)
	}

	// 4. A pull request: checked on its head, never deployed.
	prSHA := w.commit("pr", "diamond", false)
	pr := w.payload("pull_request", "opened", map[string]any{"pull_request.head.sha": prSHA, "number": 3})
	w.post(base, "", "pull_request", pr, "")
	eventually(t, "pull request checked", ghTimeout, completed(w, prSHA))
	if c := w.checks(prSHA)[githubapp.CheckBuild]; c.Conclusion != "success" || !strings.Contains(c.Summary, "never deployed") {
		t.Fatalf("PR build check %s: %s", c.Conclusion, c.Summary)
	}
	if got := liveOf(r.App, "addClaims"); got != second {
		t.Fatalf("a pull request moved live to %s", got)
	}

	// 5. Forged and replayed deliveries do nothing.
	forged := w.pushPayload(w.commit("forged", "evil", false))
	if st := w.post(base, "", "push", forged, githubtest.Sign([]byte("guess"), forged)); st != http.StatusUnauthorized {
		t.Fatalf("forged delivery answered %d", st)
	}
	if st := w.post(base, "replay-1", "issue_comment", w.comment("/status", "wanda", 90), ""); st != http.StatusAccepted {
		t.Fatalf("status comment answered %d", st)
	}
	if st := w.post(base, "replay-1", "issue_comment", w.comment("/status", "wanda", 90), ""); st != http.StatusOK {
		t.Fatalf("replayed delivery answered %d, want 200 (duplicate)", st)
	}

	eventually(t, "status answered", ghTimeout, func() (bool, string) {
		return len(w.gh.Comments(ghRepo)) >= 1, fmt.Sprint(w.gh.Comments(ghRepo))
	})

	// 6. /rollback from a reader is refused, from a writer flips back.
	w.gh.SetPermission(ghRepo, "rita", "read")
	w.gh.SetPermission(ghRepo, "wanda", "write")
	w.post(base, "", "issue_comment", w.comment("/rollback addClaims", "rita", 91), "")
	eventually(t, "reader refused", ghTimeout, func() (bool, string) {
		return len(w.gh.Comments(ghRepo)) >= 2, fmt.Sprint(w.gh.Comments(ghRepo))
	})
	if got := liveOf(r.App, "addClaims"); got != second {
		t.Fatalf("a reader's /rollback moved live to %s", got)
	}
	w.post(base, "", "issue_comment", w.comment("/rollback addClaims", "wanda", 92), "")
	eventually(t, "writer's rollback", ghTimeout, func() (bool, string) {
		return liveOf(r.App, "addClaims") == first && len(w.gh.Comments(ghRepo)) >= 3, liveOf(r.App, "addClaims")
	})
	cs := w.gh.Comments(ghRepo)
	if len(cs) != 3 {
		t.Fatalf("%d replies, want 3 (status once despite the replay, refusal, rollback): %v", len(cs), cs)
	}
	if !strings.Contains(cs[1].Body, "needs write permission") || !strings.Contains(cs[2].Body, "rolled `addClaims` back") || !strings.Contains(cs[2].Body, first) {
		t.Fatalf("replies:\n%s\n---\n%s", cs[1].Body, cs[2].Body)
	}

	// 7. Every flip is a GitHub Deployment: two auto-live pushes, one rollback.
	deps := w.gh.Deployments(ghRepo)
	if len(deps) != 3 {
		t.Fatalf("%d GitHub deployments, want 3: %+v", len(deps), deps)
	}
	for i, want := range []string{one, two, one} {
		if deps[i].Ref != want || deps[i].Environment != "production" || strings.Join(deps[i].Statuses, ",") != "success" {
			t.Errorf("deployment %d: %+v, want ref %s with success", i, deps[i], want)
		}
	}
	if errs := w.gh.BodyErrors(); len(errs) > 0 {
		t.Fatalf("requests GitHub would refuse: %v", errs)
	}
}

func (w *ghWorld) comment(body, user string, id int64) []byte {
	return w.payload("issue_comment", "created", map[string]any{
		"comment.body": body, "comment.id": id, "comment.user.login": user, "comment.user.type": "User", "issue.number": 5,
	})
}

// TestGitHubDeliveriesSurviveARestart: a delivery queued while no worker
// runs, and one whose sync failed mid-way (GitHub down), both complete
// after the app restarts.
func TestGitHubDeliveriesSurviveARestart(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		deliveriesSurviveARestart(t, b.NewURL(t))
	})
}

func deliveriesSurviveARestart(t *testing.T, dbURL string) {
	w := newGHWorld(t)
	w.cfg.Isolation = "inprocess"
	w.cfg.DatabaseURL = dbURL
	ctx := context.Background()

	// An app that never runs its workers: the delivery is stored, then
	// the process "dies".
	w.cfg.Addr = "127.0.0.1:0"
	a, err := New(ctx, w.cfg, quietLogger(), &testenv.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	one := w.commit("one", "gold", false)
	body := w.pushPayload(one)
	rec := httptest.NewRecorder()
	a.github.webhook.ServeHTTP(rec, githubtest.Delivery("/webhooks/github", "push", "queued-before-restart", body, []byte(ghSecret)))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("webhook answered %d: %s", rec.Code, rec.Body)
	}
	a.closeAll(ctx)
	a.ln.Close()

	// A running app whose GitHub is down: the job fails and is retryable.
	w.gh.Fail(githubtest.Fault{PathPrefix: "/repos/acme/flows/tarball/", Status: 503, Count: 1 << 20})
	r := start(t, w.cfg)
	eventually(t, "the queued job runs and fails on the outage", ghTimeout, func() (bool, string) {
		cs := w.checks(one)
		return cs[githubapp.CheckBuild].Conclusion == "neutral", fmt.Sprint(cs)
	})
	if liveOf(r.App, "addClaims") != "" {
		t.Fatal("live moved without the commit")
	}
	r.stop()

	// GitHub is back; the restarted app retries and completes.
	w.gh.ClearFaults()
	r2 := start(t, w.cfg)
	eventually(t, "the retried job completes after the restart", ghTimeout, func() (bool, string) {
		cs := w.checks(one)
		return cs[githubapp.CheckBuild].Conclusion == "success" && liveOf(r2.App, "addClaims") != "", fmt.Sprint(cs[githubapp.CheckBuild].Conclusion)
	})
	// One sync succeeded; the attempts GitHub's outage stopped are
	// recorded as interrupted, never as a result.
	syncs, _ := r2.Deploy().Syncs(ctx, "production", 10)
	succeeded := 0
	for _, y := range syncs {
		switch y.Status {
		case "succeeded":
			succeeded++
		case "interrupted":
		default:
			t.Errorf("sync %s is %s", y.ID, y.Status)
		}
	}
	if succeeded != 1 {
		t.Fatalf("%d syncs succeeded, want 1: %+v", succeeded, syncs)
	}
	// A redelivery of the same id, long after, runs nothing.
	if st := w.post(r2.URL(), "queued-before-restart", "push", body, ""); st != http.StatusOK {
		t.Fatalf("redelivery answered %d, want 200 duplicate", st)
	}
}

func TestGitHubIntegrationNeedsItsSettings(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{GitHubAppID: 42},
		{GitHubAppID: 42, GitHubPrivateKey: "x"},
		{GitHubWebhookSecret: "s"},
	} {
		if err := cfg.Defaults(); err == nil {
			t.Errorf("%+v: started without every GitHub setting", cfg)
		}
	}
	w := newGHWorld(t)
	w.cfg.GitHubPrivateKey = "not a key"
	w.cfg.Addr = "127.0.0.1:0"
	if _, err := New(context.Background(), w.cfg, quietLogger(), &testenv.Buffer{}); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("a bad private key: %v", err)
	}
}

// TestGitHubAppSetup: the manifest flow stores the new App's credentials;
// the next start serves webhooks with them.
func TestGitHubAppSetup(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	cfg := w.cfg
	cfg.GitHubSetup = true
	cfg.GitHubAppID, cfg.GitHubPrivateKey, cfg.GitHubWebhookSecret = 0, "", ""
	cfg.Isolation = "inprocess"
	r := start(t, cfg)
	if st := w.post(r.URL(), "", "push", w.pushPayload(w.commit("x", "gold", false)), ""); st != http.StatusNotFound && st != http.StatusMethodNotAllowed {
		t.Fatalf("webhooks served before the App exists: %d", st)
	}
	m := regexp.MustCompile(`state=([A-Za-z0-9_-]+)`).FindStringSubmatch(r.out.String())
	if m == nil {
		t.Fatalf("no setup link printed:\n%s", r.out)
	}
	get := func(path string) int {
		resp, err := http.Get(r.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(githubapp.SetupPath + "?state=" + m[1]); st != 200 {
		t.Fatalf("setup page: %d", st)
	}
	w.gh.ManifestCode("one-time")
	if st := get(githubapp.SetupCallbackPath + "?code=one-time&state=" + m[1]); st != 200 {
		t.Fatalf("callback: %d", st)
	}
	if !strings.Contains(r.out.String(), "Restart Flowgate") || strings.Contains(r.out.String(), w.gh.WebhookSecret) {
		t.Fatalf("console:\n%s", r.out)
	}
	r.stop()

	r2 := start(t, cfg)
	one := w.commit("one", "gold", false)
	body := w.pushPayload(one)
	if st := w.post(r2.URL(), "", "push", body, githubtest.Sign([]byte(w.gh.WebhookSecret), body)); st != http.StatusAccepted {
		t.Fatalf("push after setup: %d", st)
	}
	eventually(t, "push after setup completes", ghTimeout, completed(w, one))
	if liveOf(r2.App, "addClaims") == "" {
		t.Fatal("not live")
	}
	if st := get2(t, r2.URL()+githubapp.SetupPath+"?state="+m[1]); st != http.StatusNotFound && st != http.StatusMethodNotAllowed {
		t.Fatalf("setup still served once the App exists: %d", st)
	}
}

func get2(t *testing.T, u string) int {
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
