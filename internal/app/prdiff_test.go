package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp"
	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// diffWorkflow is addClaims with a claim rule and a denial rule.
func diffWorkflow(vipPlan string, deny ...string) string {
	cond := "false"
	if len(deny) > 0 {
		cond = `["` + strings.Join(deny, `", "`) + `"].includes(id)`
	}
	return `export const workflowSettings = {
  id: "addClaims",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, "kinde.auth": {} },
};

export default async function addClaims(event: any) {
  const id = event.context.user.id;
  kinde.accessToken.setCustomClaim("plan", id === "kp_vip" ? "` + vipPlan + `" : "gold");
  if (` + cond + `) kinde.auth.denyAccess("blocked by policy");
}
declare const kinde: any;
`
}

// openPR posts a real pull_request "opened" delivery for pull request n
// and tells the local GitHub about it (for /diff).
func (w *ghWorld) openPR(base string, n int, head, baseSHA string) {
	w.t.Helper()
	set := map[string]any{"number": n, "pull_request.number": n, "pull_request.head.sha": head,
		"pull_request.head.repo.full_name": ghRepo, "pull_request.base.sha": baseSHA, "pull_request.base.ref": "main"}
	w.gh.SetPullRequest(ghRepo, n, githubtest.PullRequest(w.t, n, head, baseSHA, ghRepo))
	if st := w.post(base, "", "pull_request", w.payload("pull_request", "opened", set), ""); st != http.StatusAccepted {
		w.t.Fatalf("pull request delivery answered %d", st)
	}
}

// diffRuns are the completed behaviour diff check runs on sha, oldest first.
func (w *ghWorld) diffRuns(sha string) []githubtest.CheckRun {
	var out []githubtest.CheckRun
	for _, c := range w.gh.CheckRuns(ghRepo) {
		if c.Name == githubapp.CheckDiff && c.HeadSHA == sha && c.Status == "completed" {
			out = append(out, c)
		}
	}
	return out
}

var (
	recordingIDs = regexp.MustCompile(`rec_[0-9A-Za-z_-]+`)
	durations    = regexp.MustCompile(`(?m)^Duration p50 / p99: .*$`)
)

// goldenDiff compares a check run's text with testdata/<name>. What
// differs from run to run is replaced: recording ids (numbered in order
// of appearance) and run times.
func goldenDiff(t *testing.T, name string, c githubtest.CheckRun) {
	t.Helper()
	ids := map[string]string{}
	text := recordingIDs.ReplaceAllStringFunc(c.Summary, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("rec_%d", len(ids)+1)
		}
		return ids[id]
	})
	text = durations.ReplaceAllString(text, "Duration p50 / p99: (run times)")
	got := fmt.Sprintf("conclusion: %s\ntitle: %s\n\n%s", c.Conclusion, c.Title, text)
	path := filepath.Join("testdata", name)
	if *updateGolden {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestBehaviourDiffEndToEnd is issue 19's pull-request half through the
// real service and the local GitHub: recording turned on through the
// management API, traffic recorded through the runtime API, then a pull
// request that changes a claim and a denial rule gets a Behaviour diff
// check run with exactly those changes and counts, failed by the base
// branch's policy (the head's looser one does not count); a pull request
// that changes nothing gets "No behaviour change"; /diff runs it again; a
// forged button press does nothing.
func TestBehaviourDiffEndToEnd(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	r := start(t, w.cfg)
	base := r.URL()
	ctx := context.Background()
	const policy = `"flowgate": {"behaviourDiff": {"maxDecisionsChangedPercent": 10}}`
	kindeJSON := func(extra string) string {
		return `{"rootDir": "kindeSrc", "version": "2024-12-09", ` + extra + `}`
	}

	// main: plan "platinum" for kp_vip, kp_banned denied; a strict policy.
	main := w.commitFiles("main", map[string]string{"kinde.json": kindeJSON(policy), ghWfPath: diffWorkflow("platinum", "kp_banned")})
	w.post(base, "", "push", w.pushPayload(main), "")
	eventually(t, "main synced", ghTimeout, completed(w, main))
	if liveOf(r.App, "addClaims") == "" {
		t.Fatalf("main did not go live: %+v", w.checks(main))
	}

	// Recording on, through the management API.
	c := &client{t: t, base: base, bearer: r.AdminToken(), runtimeBearer: r.runtimeToken, env: "production"}
	if code, res := c.admin("PUT", "/recording", map[string]any{"enabled": true, "workflows": []string{"addClaims"}, "sampleRate": 1}); code != 200 {
		t.Fatalf("turn recording on: %d %v", code, res)
	}
	eventually(t, "the runtime state records", ghTimeout, func() (bool, string) {
		sn, err := r.Deploy().Snapshot(ctx, "production")
		return err == nil && sn.Recording() != nil, fmt.Sprint(err)
	})

	// Traffic, through the runtime API as an auth server sends it.
	users := []string{"kp_1", "kp_vip", "kp_blocked", "kp_banned"}
	for _, u := range users {
		ev := `{"request": {"ip": "203.0.113.7"}, "context": {"user": {"id": "` + u + `"}, "workflow": {"trigger": "user:tokens_generation"}}}`
		code, res := c.do("POST", "/api/v1/environments/production/triggers/user:tokens_generation", c.runtimeBearer, []byte(ev))
		if code != 200 || res["status"] != "succeeded" {
			t.Fatalf("trigger for %s: %d %v", u, code, res)
		}
	}
	eventually(t, "the calls are recorded", ghTimeout, func() (bool, string) {
		recs, err := r.Deploy().Recordings(ctx, "production", "addClaims", 10)
		return err == nil && len(recs) == len(users), fmt.Sprint(len(recs), err)
	})

	// A pull request that gives kp_vip another plan and denies kp_blocked
	// too, and whose kinde.json tries to loosen the policy.
	change := w.commitFiles("change", map[string]string{
		"kinde.json": kindeJSON(`"flowgate": {"behaviourDiff": {"maxDecisionsChangedPercent": 100}}`),
		ghWfPath:     diffWorkflow("diamond", "kp_banned", "kp_blocked"),
	})
	w.openPR(base, 7, change, main)
	eventually(t, "the change's diff", ghTimeout, func() (bool, string) {
		return len(w.diffRuns(change)) == 1, fmt.Sprint(w.checks(change))
	})
	d := w.diffRuns(change)[0]
	if d.Conclusion != "failure" {
		t.Errorf("the base branch's policy did not fail the change: %s %q", d.Conclusion, d.Title)
	}
	goldenDiff(t, "behaviour-diff-change.md", d)

	// A pull request that changes nothing the workflows do.
	same := w.commitFiles("same", map[string]string{"kinde.json": kindeJSON(policy), ghWfPath: diffWorkflow("platinum", "kp_banned"),
		"README.md": "# flows\n"})
	w.openPR(base, 8, same, main)
	eventually(t, "the no-op's diff", ghTimeout, func() (bool, string) {
		return len(w.diffRuns(same)) == 1, fmt.Sprint(w.checks(same))
	})
	goldenDiff(t, "behaviour-diff-none.md", w.diffRuns(same)[0])

	// /diff from a writer runs it again; from a reader it is refused.
	w.gh.SetPermission(ghRepo, "wanda", "write")
	w.gh.SetPermission(ghRepo, "rita", "read")
	comment := func(body, user string, id int64) []byte {
		return w.payload("issue_comment", "created", map[string]any{
			"comment.body": body, "comment.id": id, "comment.user.login": user, "comment.user.type": "User",
			"issue.number": 8, "issue.pull_request": map[string]any{"url": "https://api.github.com/repos/acme/flows/pulls/8"},
		})
	}
	w.post(base, "", "issue_comment", comment("/diff", "rita", 501), "")
	w.post(base, "", "issue_comment", comment("/diff addClaims", "wanda", 502), "")
	eventually(t, "both comments answered", ghTimeout, func() (bool, string) {
		return len(w.gh.Comments(ghRepo)) == 2, fmt.Sprint(w.gh.Comments(ghRepo))
	})
	replies := map[string]string{}
	for _, cm := range w.gh.Comments(ghRepo) {
		replies[strings.Fields(cm.Body)[0]] = cm.Body
	}
	if !strings.Contains(replies["@rita:"], "needs write permission") {
		t.Errorf("reader's /diff: %q", replies["@rita:"])
	}
	if !strings.Contains(replies["@wanda:"], "No behaviour change") {
		t.Errorf("writer's /diff: %q", replies["@wanda:"])
	}
	if n := len(w.diffRuns(same)); n != 2 {
		t.Fatalf("%d diff check runs after /diff, want 2", n)
	}

	// A button press whose signature is forged is refused at the door.
	press := w.payload("check_run", "requested_action", map[string]any{
		"check_run.id": d.ID, "check_run.name": githubapp.CheckDiff, "check_run.head_sha": change,
		"check_run.external_id": "pr:7", "requested_action.identifier": githubapp.ActionDiff, "sender.login": "wanda",
	})
	if st := w.post(base, "", "check_run", press, githubtest.Sign([]byte("a guessed secret"), press)); st != http.StatusUnauthorized {
		t.Fatalf("forged button press answered %d, want 401", st)
	}
	if n := len(w.diffRuns(change)); n != 1 {
		t.Fatalf("a forged press ran the diff: %d check runs", n)
	}
	if errs := w.gh.BodyErrors(); len(errs) > 0 {
		t.Fatalf("requests GitHub would refuse: %v", errs)
	}
}
