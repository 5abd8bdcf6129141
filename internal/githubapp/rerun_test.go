package githubapp

import (
	"context"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/store"
)

// "Re-run" on an old commit's checks is not a rollback: it needs the
// permission /make-live needs, and a permitted re-run syncs the old commit
// again without moving live past the newer commit's deployment.
func TestRerunOfAnOlderCommitNeedsPermissionAndKeepsTheNewerLive(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ event, action string }{{"check_run", "rerequested"}, {"check_suite", "rerequested"}} {
		t.Run(c.event, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			old, push := h.commit("old", starter("gold"))
			if err := h.post("push", push); err != nil {
				t.Fatal(err)
			}
			newer, push := h.commit("newer", starter("platinum"))
			if err := h.post("push", push); err != nil {
				t.Fatal(err)
			}
			live := h.live("addClaims")
			rerun := func(user, sha string) {
				t.Helper()
				set := map[string]any{"action": c.action, "sender.login": user}
				if c.event == "check_run" {
					set["check_run.name"] = CheckBuild
					set["check_run.head_sha"] = sha
					set["check_run.check_suite.head_branch"] = "main"
				} else {
					set["check_suite.head_sha"] = sha
					set["check_suite.head_branch"] = "main"
				}
				if err := h.post(c.event, githubtest.Webhook(t, c.event, c.action, set)); err != nil {
					t.Fatal(err)
				}
			}
			syncs := func() int {
				ss, err := h.svc.Syncs(ctx, DefaultEnvironment, 100)
				if err != nil {
					t.Fatal(err)
				}
				return len(ss)
			}

			h.gh.SetPermission(testRepo, "rita", "read")
			rerun("rita", old)
			if n := syncs(); n != 2 || h.live("addClaims") != live {
				t.Fatalf("a reader's re-run: %d syncs, live %q (was %q)", n, h.live("addClaims"), live)
			}
			if cr := h.checks(old)[CheckBuild]; cr.Conclusion != "neutral" || cr.Title != "Re-run refused" {
				t.Fatalf("refused re-run's check: %s %q", cr.Conclusion, cr.Title)
			}

			h.gh.SetPermission(testRepo, "wanda", "write")
			rerun("wanda", old)
			if n := syncs(); n != 3 {
				t.Fatalf("a writer's re-run did not sync: %d syncs", n)
			}
			if h.live("addClaims") != live {
				t.Fatalf("re-running the older commit moved live from %q to %q", live, h.live("addClaims"))
			}
			deps, err := h.svc.Deployments(ctx, DefaultEnvironment, "addClaims", 10)
			if err != nil || len(deps) != 3 || deps[0].CommitSHA != old || deps[0].Status == store.Live {
				t.Fatalf("deployments after the re-run: %+v %v", deps, err)
			}

			// The newest commit's re-run still goes live.
			rerun("wanda", newer)
			if got := h.live("addClaims"); got == live || got == "" {
				t.Fatalf("re-running the newest commit: live %q", got)
			}
			h.noBodyErrors()
		})
	}
}

// GitHub's suspend and unsuspend events list no repositories: unsuspending
// brings back every repository the suspension set aside.
func TestUnsuspendReconnectsTheInstallationsRepositories(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	install := func(action string, set map[string]any) {
		t.Helper()
		p := githubtest.Webhook(t, "installation", action, map[string]any{"action": action})
		p = githubtest.Aim(t, p, set)
		if err := h.post("installation", p); err != nil {
			t.Fatal(err)
		}
	}
	install("created", map[string]any{"repositories": []any{map[string]any{"id": testRepoID, "name": "flows", "full_name": testRepo, "private": true}}})
	install("suspend", nil)
	s, push := h.commit("while-suspended", starter("gold"))
	if err := h.post("push", push); err != nil {
		t.Fatal(err)
	}
	if len(h.checks(s)) != 0 || h.live("addClaims") != "" {
		t.Fatal("a push to a suspended installation was synced")
	}
	install("unsuspend", nil)
	s, push = h.commit("after", starter("gold"))
	if err := h.post("push", push); err != nil {
		t.Fatal(err)
	}
	if h.checks(s)[CheckBuild].Conclusion != "success" || h.live("addClaims") == "" {
		t.Fatal("after unsuspend the repository's push was not synced")
	}
}
