package githubapp

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/store"
)

func TestPushGoesLiveWithGreenChecksAndADeployment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s, push := h.commit("one", starter("gold"))
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	h.noBodyErrors()
	live := h.live("addClaims")
	if live == "" {
		t.Fatal("nothing went live")
	}
	cs := h.checks(s)
	for _, name := range []string{CheckSync, CheckBuild} {
		c, ok := cs[name]
		if !ok {
			t.Fatalf("no %q check run; have %v", name, cs)
		}
		if c.Status != "completed" || c.Conclusion != "success" {
			t.Errorf("%s: %s/%s, want completed/success", name, c.Status, c.Conclusion)
		}
		if c.Updates < 2 { // in_progress, then completed
			t.Errorf("%s: %d updates, want queued → in_progress → completed", name, c.Updates)
		}
	}
	if !strings.Contains(cs[CheckBuild].Summary, live) || !strings.Contains(cs[CheckBuild].Summary, "Live") {
		t.Errorf("build summary does not name the live deployment %s:\n%s", live, cs[CheckBuild].Summary)
	}
	deps := h.gh.Deployments(testRepo)
	if len(deps) != 1 || deps[0].Ref != s || deps[0].Environment != "production" || strings.Join(deps[0].Statuses, ",") != "success" {
		t.Fatalf("GitHub deployments = %+v, want one for %s in production with status success", deps, s)
	}
	if !strings.Contains(deps[0].Description, "addClaims→"+live) {
		t.Errorf("deployment description %q does not say what went live", deps[0].Description)
	}
	// The repository is now connected to production.
	src, err := h.db.SourceFor(context.Background(), "production")
	if err != nil || src.Ref != testRepo || src.Branch != "main" || src.InstallationID != testInst {
		t.Fatalf("source = %+v, %v", src, err)
	}
}

func TestBrokenPushIsRedAndChangesNothingLive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, push := h.commit("good", starter("gold"))
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	good := h.live("addClaims")
	broken := starter("gold")
	broken[wfPath] = strings.Replace(broken[wfPath], `kinde.accessToken.setCustomClaim("plan", "gold");`, `kinde.accessToken.setCustomClaim("plan", "gold";`, 1)
	s, push := h.commit("broken", broken)
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	h.noBodyErrors()
	if got := h.live("addClaims"); got != good {
		t.Fatalf("live moved from %s to %s on a broken push", good, got)
	}
	b := h.checks(s)[CheckBuild]
	if b.Conclusion != "failure" {
		t.Fatalf("build check %s/%s, want failure", b.Status, b.Conclusion)
	}
	if len(b.Annotations) == 0 {
		t.Fatal("no annotations on the broken build")
	}
	a := b.Annotations[0]
	if a["path"] != wfPath || fmt.Sprint(a["start_line"]) != "9" || a["annotation_level"] != "failure" {
		t.Errorf("annotation = %v, want %s line 9, failure", a, wfPath)
	}
	if n := len(h.gh.Deployments(testRepo)); n != 1 {
		t.Errorf("%d GitHub deployments, want only the good push's", n)
	}
}

func TestPushSkipsWhenNothingFlowgateReadsChanged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		changed  []string
		set      map[string]any
		wantSync bool
	}{
		{name: "readme only", changed: []string{"README.md", "docs/x.md"}},
		{name: "workflow", changed: []string{wfPath}, wantSync: true},
		{name: "kinde.json", changed: []string{"kinde.json"}, wantSync: true},
		{name: "package.json", changed: []string{"package.json"}, wantSync: true},
		{name: "a folder named like rootDir elsewhere", changed: []string{"docs/kindeSrc/x.ts"}},
		{name: "forced push", changed: []string{"README.md"}, set: map[string]any{"forced": true}, wantSync: true},
		{name: "new branch", changed: []string{"README.md"}, set: map[string]any{"before": strings.Repeat("0", 40)}, wantSync: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			s := githubtest.SHA(c.name)
			h.gh.Commit(t, testRepo, s, starter("gold"))
			sets := []map[string]any{}
			if c.set != nil {
				sets = append(sets, c.set)
			}
			if err := h.deliver("push", h.push(s, c.changed, sets...)); err != nil {
				t.Fatal(err)
			}
			syncs, _ := h.svc.Syncs(context.Background(), "production", 10)
			if got := len(syncs) > 0 && syncs[0].Status != "skipped"; got != c.wantSync {
				t.Fatalf("synced = %v, want %v", got, c.wantSync)
			}
			sc := h.checks(s)[CheckSync]
			if !c.wantSync && sc.Conclusion != "skipped" {
				t.Errorf("sync check %q, want skipped", sc.Conclusion)
			}
		})
	}
}

func TestPushWithManyCommitsSyncsFully(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := githubtest.SHA("many")
	h.gh.Commit(t, testRepo, s, starter("gold"))
	var commits []any
	for i := range fullSyncCommits {
		commits = append(commits, map[string]any{"id": githubtest.SHA(fmt.Sprint(i)), "added": []any{}, "removed": []any{}, "modified": []any{"README.md"}})
	}
	if err := h.deliver("push", h.push(s, nil, map[string]any{"commits": commits})); err != nil {
		t.Fatal(err)
	}
	if h.live("addClaims") == "" {
		t.Fatal("a push listing 20 commits was not synced")
	}
}

func TestPushToOtherBranchesAndTagsIsIgnored(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"refs/heads/feature", "refs/tags/v1"} {
		h := newHarness(t)
		s, _ := h.commit(ref, starter("gold"))
		if err := h.deliver("push", h.push(s, []string{wfPath}, map[string]any{"ref": ref})); err != nil {
			t.Fatal(err)
		}
		if n := len(h.gh.CheckRuns(testRepo)); n != 0 {
			t.Errorf("%s: %d check runs, want none", ref, n)
		}
	}
}

func TestEnvironmentRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *harnessOptions) {
		o.Environments = []EnvRule{{Repo: testRepo, Branch: "release", Env: "staging"}}
	})
	s, _ := h.commit("rel", starter("gold"))
	if err := h.deliver("push", h.push(s, []string{wfPath}, map[string]any{"ref": "refs/heads/release"})); err != nil {
		t.Fatal(err)
	}
	w, err := h.svc.Workflow(context.Background(), "staging", "addClaims")
	if err != nil || w.LiveDeploymentID == "" {
		t.Fatalf("release did not go live in staging: %+v %v", w, err)
	}
	// With a rule for the repository, main no longer maps to production.
	s2, push := h.commit("main", starter("gold"))
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	if len(h.checks(s2)) != 0 {
		t.Error("main synced although the repository's rules do not name it")
	}
	if _, err := ParseEnvRules("acme/flows=prod"); err == nil {
		t.Error("a rule without a branch was accepted")
	}
}

func TestEnvironmentOwnedByAnotherRepository(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.svc.EnsureEnvironment(ctx, "production")
	h.db.PutSource(ctx, store.Source{Env: "production", Kind: "github", Ref: "acme/other", Branch: "main", InstallationID: 9})
	s, push := h.commit("one", starter("gold"))
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	c := h.checks(s)[CheckSync]
	if c.Conclusion != "failure" || !strings.Contains(c.Summary, "acme/other") {
		t.Fatalf("sync check %s: %q", c.Conclusion, c.Summary)
	}
	if h.live("addClaims") != "" {
		t.Fatal("went live in an environment another repository owns")
	}
}
