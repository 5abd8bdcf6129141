package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// prOn is a real pull_request payload for pull request 12 with its head
// and base commits.
func (h *harness) prOn(action, head, base, headRepo string) []byte {
	h.t.Helper()
	return githubtest.Webhook(h.t, "pull_request", "opened", map[string]any{
		"action": action, "number": 12,
		"pull_request.number":              12,
		"pull_request.head.sha":            head,
		"pull_request.head.ref":            "feature",
		"pull_request.head.repo.full_name": headRepo,
		"pull_request.base.ref":            "main",
		"pull_request.base.sha":            base,
	})
}

// servePull makes the local GitHub answer for pull request n (a real
// pull request object from the webhook examples).
func (h *harness) servePull(n int, head, base, headRepo string) {
	h.t.Helper()
	h.gh.SetPullRequest(testRepo, n, githubtest.PullRequest(h.t, n, head, base, headRepo))
}

// diffRuns are the behaviour diff check runs on sha, oldest first.
func (h *harness) diffRuns(sha string) []githubtest.CheckRun {
	var out []githubtest.CheckRun
	for _, c := range h.gh.CheckRuns(testRepo) {
		if c.Name == CheckDiff && c.HeadSHA == sha {
			out = append(out, c)
		}
	}
	return out
}

// withPR pushes main (unless noPush) and serves a pull request's head
// (plan "platinum", or a broken file) as pull request 12.
func withPR(t *testing.T, h *harness, noPush, broken bool, headRepo string) (head, base string) {
	t.Helper()
	if !noPush {
		var push []byte
		base, push = h.commit("main", starter("gold"))
		if err := h.deliver("push", push); err != nil {
			t.Fatal(err)
		}
	}
	fs := starter("platinum")
	if broken {
		fs[wfPath] = strings.Replace(fs[wfPath], "export default", "export defaul", 1)
	}
	head = githubtest.SHA("pr head " + headRepo)
	h.gh.Commit(t, testRepo, head, fs)
	h.servePull(12, head, base, headRepo)
	return head, base
}

// The check run a pull request gets after its build: what it says when
// there is nothing to replay, and when it is not run at all.
func TestBehaviourDiffOnPullRequests(t *testing.T) {
	cases := []struct {
		name          string
		golden        string // testdata/checks/<golden>.md holds the check run as people read it
		noDiff        bool   // the App has no differ
		noPush        bool
		broken        bool
		headRepo      string
		wantTitle     string // "" for no check run
		wantInSummary []string
	}{
		{name: "nothing recorded", golden: "diff-recording-off", headRepo: testRepo, wantTitle: "Recording is off",
			wantInSummary: []string{"recording is off in `production`, so there are no recorded trigger calls for `addClaims`", "docs/recording.md"}},
		{name: "a fork is not replayed by itself", golden: "diff-fork", headRepo: "mallory/flows", wantTitle: "Not run for a fork",
			wantInSummary: []string{"comment `/diff`", "write permission"}},
		{name: "no environment yet", golden: "diff-no-environment", headRepo: testRepo, noPush: true, wantTitle: "No environment yet",
			wantInSummary: []string{"push to its default branch first"}},
		{name: "a broken build has no diff", headRepo: testRepo, broken: true},
		{name: "not configured", headRepo: testRepo, noDiff: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) { o.Diff = !c.noDiff })
			head, base := withPR(t, h, c.noPush, c.broken, c.headRepo)
			if err := h.deliver("pull_request", h.prOn("opened", head, base, c.headRepo)); err != nil {
				t.Fatal(err)
			}
			h.noBodyErrors()
			runs := h.diffRuns(head)
			if c.wantTitle == "" {
				if len(runs) != 0 {
					t.Fatalf("a diff check run: %+v", runs)
				}
				return
			}
			if len(runs) != 1 {
				t.Fatalf("%d diff check runs, want 1", len(runs))
			}
			d := runs[0]
			if d.Conclusion != "neutral" || d.Title != c.wantTitle {
				t.Fatalf("diff check run %s %q, want neutral %q\n%s", d.Conclusion, d.Title, c.wantTitle, d.Summary)
			}
			for _, w := range c.wantInSummary {
				if !strings.Contains(d.Summary, w) {
					t.Errorf("summary lacks %q:\n%s", w, d.Summary)
				}
			}
			if c.golden != "" {
				golden(t, "checks/"+c.golden+".md", []byte(fmt.Sprintf("%s — %s — %s\n\n%s", d.Name, d.Conclusion, d.Title, d.Summary)))
			}
			if len(d.Actions) != 1 || d.Actions[0]["identifier"] != ActionDiff {
				t.Errorf("actions %v, want the Run again button", d.Actions)
			}
			if b := h.checks(head)[CheckBuild]; b.Conclusion != "success" {
				t.Errorf("build check %s", b.Conclusion)
			}
		})
	}
}

// /diff in a comment: only from a collaborator with the permission, only
// in a pull request; a fork is replayed when a writer asks.
func TestDiffCommand(t *testing.T) {
	cases := []struct {
		name, body, user, perm, userType string
		headRepo                         string
		notPR, unknownPR                 bool
		wantReply                        []string
		wantRuns                         int // diff check runs on the head afterwards
		wantTitle                        string
	}{
		{name: "a writer", body: "/diff", user: "wanda", perm: "write", headRepo: testRepo,
			wantReply: []string{"@wanda", "replayed the behaviour diff of `", "Recording is off", "\"Behaviour diff\" check run"}, wantRuns: 1, wantTitle: "Recording is off"},
		{name: "one workflow", body: "/diff addClaims", user: "wanda", perm: "write", headRepo: testRepo,
			wantReply: []string{"Recording is off"}, wantRuns: 1, wantTitle: "Recording is off"},
		{name: "a workflow the build lacks", body: "/diff other", user: "wanda", perm: "write", headRepo: testRepo,
			wantReply: []string{"No workflow other"}, wantRuns: 1, wantTitle: "No workflow other"},
		{name: "a fork, when a writer asks", body: "/diff", user: "ada", perm: "admin", headRepo: "mallory/flows",
			wantReply: []string{"Recording is off"}, wantRuns: 1, wantTitle: "Recording is off"},
		{name: "a reader is refused", body: "/diff", user: "rita", perm: "read", headRepo: testRepo,
			wantReply: []string{"@rita", "`/diff` needs write permission", "you have read"}},
		{name: "a stranger is refused", body: "/diff", user: "mallory", headRepo: "mallory/flows",
			wantReply: []string{"you have none"}},
		{name: "a bot is refused", body: "/diff", user: "dependabot[bot]", perm: "admin", userType: "Bot", headRepo: testRepo,
			wantReply: []string{"does not take commands from bots"}},
		{name: "not a pull request", body: "/diff", user: "wanda", perm: "write", headRepo: testRepo, notPR: true,
			wantReply: []string{"works in a pull request's comments"}},
		{name: "a pull request GitHub does not know", body: "/diff", user: "wanda", perm: "write", headRepo: testRepo, unknownPR: true,
			wantReply: []string{"GitHub does not know pull request #12"}},
		{name: "two workflows", body: "/diff a b", user: "wanda", perm: "write", headRepo: testRepo,
			wantReply: []string{"usage: /diff"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) { o.Diff = true })
			head, _ := withPR(t, h, false, false, c.headRepo)
			if c.unknownPR {
				h.gh.SetPullRequest(testRepo, 12, nil)
				head = githubtest.SHA("none")
			}
			if c.perm != "" {
				h.gh.SetPermission(testRepo, c.user, c.perm)
			}
			userType := c.userType
			if userType == "" {
				userType = "User"
			}
			p := h.comment("created", c.body, c.user, userType, 77)
			var m map[string]any
			json.Unmarshal(p, &m)
			if c.notPR {
				delete(m["issue"].(map[string]any), "pull_request")
			} else {
				githubtest.Set(m, "issue.pull_request", map[string]any{"url": "https://api.github.com/repos/acme/flows/pulls/12"})
			}
			p, _ = json.Marshal(m)
			if err := h.deliver("issue_comment", p); err != nil {
				t.Fatal(err)
			}
			h.noBodyErrors()
			cs := h.gh.Comments(testRepo)
			if len(cs) != 1 {
				t.Fatalf("%d replies, want 1: %+v", len(cs), cs)
			}
			for _, w := range c.wantReply {
				if !strings.Contains(cs[0].Body, w) {
					t.Errorf("reply lacks %q:\n%s", w, cs[0].Body)
				}
			}
			runs := h.diffRuns(head)
			if len(runs) != c.wantRuns {
				t.Fatalf("%d diff check runs, want %d", len(runs), c.wantRuns)
			}
			if c.wantRuns > 0 && runs[0].Title != c.wantTitle {
				t.Fatalf("diff check run %q, want %q\n%s", runs[0].Title, c.wantTitle, runs[0].Summary)
			}
		})
	}
}

// The diff check run's button: a writer's press diffs the pull request
// again; a reader's is refused on the check run, which keeps its report;
// an external id that names no pull request, another button's identifier
// or another check run's name does nothing.
func TestDiffButton(t *testing.T) {
	cases := []struct {
		name, user, perm, action, identifier, checkName string
		externalID                                      string // "" keeps the run's own
		wantRuns                                        int    // diff check runs afterwards
		wantTitle                                       string // the pressed run's title afterwards
	}{
		{name: "a writer's press", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: CheckDiff,
			wantRuns: 2, wantTitle: "Recording is off"},
		{name: "a writer's re-run", user: "wanda", perm: "write", action: "rerequested", checkName: CheckDiff,
			wantRuns: 2, wantTitle: "Recording is off"},
		{name: "a reader's press", user: "rita", perm: "read", action: "requested_action", identifier: ActionDiff, checkName: CheckDiff,
			wantRuns: 1, wantTitle: "Re-run refused"},
		{name: "a stranger's re-run", user: "mallory", action: "rerequested", checkName: CheckDiff,
			wantRuns: 1, wantTitle: "Re-run refused"},
		{name: "external id without the prefix", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: CheckDiff,
			externalID: "12", wantRuns: 1, wantTitle: "Cannot re-run"},
		{name: "external id not a number", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: CheckDiff,
			externalID: "pr:12/../../1", wantRuns: 1, wantTitle: "Cannot re-run"},
		{name: "external id zero", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: CheckDiff,
			externalID: "pr:0", wantRuns: 1, wantTitle: "Cannot re-run"},
		{name: "external id too large", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: CheckDiff,
			externalID: "pr:99999999999999999999", wantRuns: 1, wantTitle: "Cannot re-run"},
		{name: "external id of an unknown pull request", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: CheckDiff,
			externalID: "pr:13", wantRuns: 1, wantTitle: "Cannot re-run"},
		{name: "make-live identifier on the diff", user: "wanda", perm: "write", action: "requested_action", identifier: ActionMakeLive, checkName: CheckDiff,
			wantRuns: 1, wantTitle: "Recording is off"},
		{name: "diff identifier on the build", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: CheckBuild,
			wantRuns: 1, wantTitle: "Recording is off"},
		{name: "another app's check run", user: "wanda", perm: "write", action: "requested_action", identifier: ActionDiff, checkName: "Behaviour Diff ",
			wantRuns: 1, wantTitle: "Recording is off"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) { o.Diff = true })
			head, base := withPR(t, h, false, false, testRepo)
			if err := h.deliver("pull_request", h.prOn("opened", head, base, testRepo)); err != nil {
				t.Fatal(err)
			}
			first := h.diffRuns(head)
			if len(first) != 1 {
				t.Fatalf("setup: %d diff check runs", len(first))
			}
			live := h.live("addClaims")
			if c.perm != "" {
				h.gh.SetPermission(testRepo, c.user, c.perm)
			}
			ext := c.externalID
			if ext == "" {
				ext = diffExternalID(12)
			}
			set := map[string]any{
				"action": c.action, "check_run.id": first[0].ID, "check_run.name": c.checkName, "check_run.head_sha": head,
				"check_run.external_id": ext, "check_run.output.summary": first[0].Summary, "check_run.output.title": first[0].Title,
				"sender.login": c.user,
			}
			if c.identifier != "" {
				set["requested_action.identifier"] = c.identifier
			}
			if err := h.deliver("check_run", githubtest.Webhook(t, "check_run", "requested_action", set)); err != nil {
				t.Fatal(err)
			}
			h.noBodyErrors()
			runs := h.diffRuns(head)
			if len(runs) != c.wantRuns {
				t.Fatalf("%d diff check runs, want %d", len(runs), c.wantRuns)
			}
			if got := runs[0].Title; got != c.wantTitle {
				t.Fatalf("pressed run's title %q, want %q\n%s", got, c.wantTitle, runs[0].Summary)
			}
			if !strings.Contains(runs[0].Summary, "docs/recording.md") {
				t.Errorf("the pressed run lost its report:\n%s", runs[0].Summary)
			}
			if h.live("addClaims") != live {
				t.Fatal("a diff button moved a live pointer")
			}
		})
	}
}

func TestPullOf(t *testing.T) {
	cases := map[string]int{"pr:12": 12, "pr:1": 1, "pr:999999999": 999999999,
		"": 0, "pr:": 0, "12": 0, "pr:0": 0, "pr:-1": 0, "pr:+1": 0, "pr:1e3": 0, "pr:1 ": 0, " pr:1": 0,
		"pr:1000000000": 0, "pr:99999999999999999999": 0, "PR:1": 0, "pr:12/../1": 0, "pr:١٢": 0}
	for in, want := range cases {
		n, ok := pullOf(in)
		if ok != (want > 0) || n != want && ok {
			t.Errorf("pullOf(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
}

func FuzzPullOf(f *testing.F) {
	for _, s := range []string{"pr:12", "pr:", "pr:0", "x", "pr:99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := pullOf(s)
		if ok && (n <= 0 || diffExternalID(n) != s) {
			t.Fatalf("pullOf(%q) = %d: not what diffExternalID writes", s, n)
		}
	})
}

// The policy that judges a pull request is its base commit's.
func TestBasePolicy(t *testing.T) {
	h := newHarness(t, func(o *harnessOptions) { o.Diff = true })
	r := repoRef{Owner: "acme", Name: "flows", Installation: testInst}
	serve := func(label, kindeJSON string) string {
		fs := starter("gold")
		fs["kinde.json"] = kindeJSON
		s := githubtest.SHA(label)
		h.gh.Commit(t, testRepo, s, fs)
		return s
	}
	cases := []struct {
		name, base string
		want       *float64
		wantNote   string
		down       bool // the archive answers 503: an error, no note
	}{
		{name: "a policy", base: serve("p", `{"version": "2024-12-09", "flowgate": {"behaviourDiff": {"maxChangedPercent": 7}}}`), want: func() *float64 { v := 7.0; return &v }()},
		{name: "none", base: serve("n", `{"version": "2024-12-09"}`)},
		{name: "an invalid one", base: serve("i", `{"version": "2024-12-09", "flowgate": {"behaviourDiff": {"maxChangedPercent": "5%"}}}`), wantNote: "invalid `flowgate.behaviourDiff`"},
		{name: "no kinde.json", base: serve("k", `not json`)},
		{name: "a base GitHub does not have", base: githubtest.SHA("gone"), wantNote: "cannot be read"},
		{name: "GitHub down: retried, never judged without the policy", base: serve("down", `{"version": "2024-12-09"}`), down: true},
		{name: "no base", base: "", wantNote: "base commit is unknown"},
		{name: "a base that is not a commit id", base: "../../etc", wantNote: "base commit is unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.down {
				h.gh.Fail(githubtest.Fault{PathPrefix: "/repos/acme/flows/tarball/" + c.base, Status: 503, Count: 1000})
				defer h.gh.ClearFaults()
			}
			pol, note, err := h.app.basePolicy(context.Background(), r, c.base)
			if (err != nil) != c.down {
				t.Fatalf("err = %v, want an error: %v", err, c.down)
			}
			if !strings.Contains(note, c.wantNote) || c.wantNote == "" && note != "" {
				t.Errorf("note %q, want %q", note, c.wantNote)
			}
			switch {
			case c.want == nil && pol != nil:
				t.Errorf("policy %+v, want none", pol)
			case c.want != nil && (pol == nil || pol.MaxChangedPercent == nil || *pol.MaxChangedPercent != *c.want):
				t.Errorf("policy %+v, want maxChangedPercent %v", pol, *c.want)
			}
		})
	}
}

// Every field of a diff button press and of a /diff comment, removed or
// replaced by a hostile value, is handled without a panic (the payloads
// are signed by GitHub, but a handler must not trust their shape).
func TestDiffPayloadMutations(t *testing.T) {
	h := newHarness(t, func(o *harnessOptions) { o.Diff = true })
	head, _ := withPR(t, h, false, false, testRepo)
	h.gh.SetPullRequest(testRepo, 12, nil) // a press that gets as far as GitHub learns nothing more
	h.gh.SetPermission(testRepo, "wanda", "write")
	evs := map[string][]byte{
		"check_run": githubtest.Webhook(t, "check_run", "requested_action", map[string]any{"check_run.name": CheckDiff, "check_run.head_sha": head,
			"check_run.external_id": "pr:12", "requested_action.identifier": ActionDiff, "sender.login": "wanda"}),
		"issue_comment": func() []byte {
			var m map[string]any
			json.Unmarshal(h.comment("created", "/diff addClaims", "wanda", "User", 9), &m)
			githubtest.Set(m, "issue.pull_request", map[string]any{"url": "https://api.github.com/repos/acme/flows/pulls/12"})
			b, _ := json.Marshal(m)
			return b
		}(),
	}
	vals := []any{nil, "x", 1e308, -1, []any{}, map[string]any{}, true, "pr:12"}
	n := 0
	for ev, raw := range evs {
		mutations(raw, vals, func(field string, b []byte) {
			n++
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic on %s with %s: %v", ev, field, r)
				}
			}()
			h.app.Handle(context.Background(), DeliveryArgs{ID: fmt.Sprint("m", n), Event: ev, Payload: b})
		})
	}
	if h.live("addClaims") == "" {
		t.Fatal("the live deployment went away")
	}
	t.Logf("%d mutated deliveries", n)
}
