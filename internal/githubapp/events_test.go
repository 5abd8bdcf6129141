package githubapp

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

func TestInstallationEventsKeepTheConnectedRepositories(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	repos := func() string {
		rs, err := h.db.GitHubRepos(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rs {
			names = append(names, r.Repo)
		}
		return strings.Join(names, ",")
	}
	steps := []struct {
		event, action string
		set           map[string]any
		want          string
	}{
		{"installation", "created", map[string]any{"repositories": []any{
			map[string]any{"id": 1, "name": "flows", "full_name": testRepo, "private": true},
			map[string]any{"id": 2, "name": "more", "full_name": "acme/more", "private": false},
			map[string]any{"id": 3, "name": "..", "full_name": "acme/..", "private": false},
		}}, "acme/flows,acme/more"},
		{"installation_repositories", "removed", map[string]any{"repositories_added": []any{}, "repositories_removed": []any{
			map[string]any{"id": 2, "name": "more", "full_name": "acme/more"},
		}}, "acme/flows"},
		{"installation_repositories", "added", map[string]any{"repositories_removed": []any{}, "repositories_added": []any{
			map[string]any{"id": 4, "name": "new", "full_name": "acme/new"},
		}}, "acme/flows,acme/new"},
		{"installation", "deleted", nil, ""},
	}
	for _, s := range steps {
		set := map[string]any{"action": s.action, "installation.id": testInst, "installation.account.login": "acme"}
		for k, v := range s.set {
			set[k] = v
		}
		raw := githubtest.Webhook(t, s.event, s.action, nil)
		p := githubtest.Aim(t, raw, set)
		if err := h.deliver(s.event, p); err != nil {
			t.Fatalf("%s %s: %v", s.event, s.action, err)
		}
		if got := repos(); got != s.want {
			t.Fatalf("after %s %s: connected %q, want %q", s.event, s.action, got, s.want)
		}
	}
	// Uninstalled: a late push for the repository does nothing.
	_, push := h.commit("late", starter("gold"))
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	if len(h.gh.CheckRuns(testRepo)) != 0 || h.live("addClaims") != "" {
		t.Fatal("a push for an uninstalled repository was synced")
	}
}

func TestRerunsSyncAgain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ event, action string }{{"check_run", "rerequested"}, {"check_suite", "rerequested"}} {
		t.Run(c.event, func(t *testing.T) {
			h := newHarness(t)
			s, push := h.commit("one", starter("gold"))
			if err := h.deliver("push", push); err != nil {
				t.Fatal(err)
			}
			first := h.live("addClaims")
			h.gh.SetPermission(testRepo, "wanda", "write")
			set := map[string]any{"action": c.action, "sender.login": "wanda"}
			if c.event == "check_run" {
				set["check_run.name"] = CheckBuild
				set["check_run.head_sha"] = s
				set["check_run.check_suite.head_branch"] = "main"
			} else {
				set["check_suite.head_sha"] = s
				set["check_suite.head_branch"] = "main"
			}
			if err := h.deliver(c.event, githubtest.Webhook(t, c.event, c.action, set)); err != nil {
				t.Fatal(err)
			}
			syncs, _ := h.svc.Syncs(context.Background(), "production", 10)
			if len(syncs) != 2 || h.live("addClaims") == first {
				t.Fatalf("re-run: %d syncs, live %s (was %s)", len(syncs), h.live("addClaims"), first)
			}
			if n := len(h.gh.CheckRuns(testRepo)); n != 4 {
				t.Errorf("%d check runs, want 2 per sync", n)
			}
		})
	}
}

func TestMakeLiveButtonInPreviewMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.svc.EnsureEnvironment(ctx, "production")
	h.svc.SetPreviewMode(ctx, "production", true)
	s, push := h.commit("one", starter("gold"))
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	b := h.checks(s)[CheckBuild]
	if h.live("addClaims") != "" || b.Conclusion != "success" || len(b.Actions) != 1 || b.Actions[0]["identifier"] != ActionMakeLive {
		t.Fatalf("preview build: live %q, %s, actions %v", h.live("addClaims"), b.Conclusion, b.Actions)
	}
	press := func(user string) {
		p := githubtest.Webhook(t, "check_run", "requested_action", map[string]any{
			"check_run.id": b.ID, "check_run.name": CheckBuild, "check_run.head_sha": s,
			"requested_action.identifier": ActionMakeLive, "sender.login": user,
		})
		if err := h.deliver("check_run", p); err != nil {
			t.Fatal(err)
		}
	}
	h.gh.SetPermission(testRepo, "rita", "read")
	press("rita")
	if h.live("addClaims") != "" {
		t.Fatal("a reader's button press made it live")
	}
	if got := h.checks(s)[CheckBuild].Title; !strings.Contains(got, "refused") {
		t.Errorf("after a refused press the title is %q", got)
	}
	h.gh.SetPermission(testRepo, "wanda", "write")
	press("wanda")
	if h.live("addClaims") == "" {
		t.Fatal("Make live did not make it live")
	}
	deps := h.gh.Deployments(testRepo)
	if len(deps) != 1 || deps[0].Ref != s || deps[0].Statuses[0] != "success" {
		t.Fatalf("GitHub deployments %+v", deps)
	}
}

// More than 50 diagnostics go in further updates of 50, all kept.
func TestAnnotationBatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ids, err := h.app.startChecks(context.Background(), repoRef{Owner: "acme", Name: "flows", Installation: testInst}, githubtest.SHA("x"), "d", CheckBuild)
	if err != nil {
		t.Fatal(err)
	}
	var ds []diag.Diagnostic
	for i := range 123 {
		ds = append(ds, diag.Errorf("build-error", fmt.Sprintf("kindeSrc/f%d.ts", i), i+1, 1, "problem %d", i))
	}
	out := BuildCheck(SyncReport{SHA: githubtest.SHA("x"), Diagnostics: ds})
	if err := h.app.finishCheck(context.Background(), repoRef{Owner: "acme", Name: "flows", Installation: testInst}, ids[CheckBuild], out, nil); err != nil {
		t.Fatal(err)
	}
	h.noBodyErrors()
	c := h.checks(githubtest.SHA("x"))[CheckBuild]
	if len(c.Annotations) != 123 || c.Conclusion != "failure" {
		t.Fatalf("%d annotations, %s", len(c.Annotations), c.Conclusion)
	}
	if c.Updates != 1+3 { // in_progress, then 50 + 50 + 23
		t.Errorf("%d updates, want 4", c.Updates)
	}
}

// A check suite whose head branch is named like the connected branch (a
// fork's "main") re-checks its commit but never deploys it.
func TestRerunOfAnUnsyncedCommitNeverDeploys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, push := h.commit("good", starter("gold"))
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	live := h.live("addClaims")
	fork := githubtest.SHA("fork main")
	h.gh.Commit(t, testRepo, fork, starter("evil"))
	p := githubtest.Webhook(t, "check_suite", "rerequested", map[string]any{"check_suite.head_sha": fork, "check_suite.head_branch": "main"})
	if err := h.deliver("check_suite", p); err != nil {
		t.Fatal(err)
	}
	if h.live("addClaims") != live {
		t.Fatal("a re-run deployed a commit no push brought")
	}
	syncs, _ := h.svc.Syncs(context.Background(), "production", 10)
	if len(syncs) != 1 {
		t.Fatalf("%d syncs, want 1", len(syncs))
	}
	if b := h.checks(fork)[CheckBuild]; b.Conclusion != "success" || !strings.Contains(b.Summary, "never deployed") {
		t.Fatalf("re-check: %s %s", b.Conclusion, b.Summary)
	}
}
