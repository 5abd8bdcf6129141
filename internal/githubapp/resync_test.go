package githubapp

import (
	"context"
	"strings"
	"testing"
)

// Issue 18.6: after /deactivate, /sync syncs the unchanged tree again
// (no new commit), so the workflow is deployed and live once more; a
// reader may not, and an unknown argument is refused.
func TestSlashSyncResyncsTheUnchangedTree(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, second := twoLive(t, h)
	h.gh.SetPermission(testRepo, "wanda", "write")
	h.gh.SetPermission(testRepo, "rita", "read")
	syncs := func() int {
		s, err := h.app.opts.Deploy.Syncs(context.Background(), "production", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(s)
	}
	if err := h.deliver("issue_comment", h.comment("created", "/deactivate addClaims", "wanda", "User", 7001)); err != nil {
		t.Fatal(err)
	}
	if h.live("addClaims") != "" {
		t.Fatal("setup: still live after /deactivate")
	}
	before := syncs()
	for i, c := range []struct{ user, body, want string }{
		{"rita", "/sync", "needs write permission"},
		{"wanda", "/sync now", "/sync takes no arguments"},
	} {
		if err := h.deliver("issue_comment", h.comment("created", c.body, c.user, "User", int64(7100+i))); err != nil {
			t.Fatal(err)
		}
		cs := h.gh.Comments(testRepo)
		if !strings.Contains(cs[len(cs)-1].Body, c.want) || syncs() != before || h.live("addClaims") != "" {
			t.Fatalf("%s %q: reply %q, %d syncs (was %d)", c.user, c.body, cs[len(cs)-1].Body, syncs(), before)
		}
	}
	if err := h.deliver("issue_comment", h.comment("created", "/sync", "wanda", "User", 7200)); err != nil {
		t.Fatal(err)
	}
	h.noBodyErrors()
	cs := h.gh.Comments(testRepo)
	if reply := cs[len(cs)-1].Body; !strings.Contains(reply, "@wanda: synced commit") || !strings.Contains(reply, "into `production` again") {
		t.Fatalf("reply %q", reply)
	}
	if syncs() != before+1 {
		t.Fatalf("%d syncs, want one more than %d", syncs(), before)
	}
	if live := h.live("addClaims"); live == "" || live == second {
		t.Fatalf("live %q after /sync: want a new deployment of the unchanged tree (the last was %s)", live, second)
	}
}
