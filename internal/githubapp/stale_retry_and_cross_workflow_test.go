package githubapp

import (
	"context"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// A push whose first attempt failed (GitHub outage fetching the tarball) is
// retried by the job AFTER a newer push went live.
func TestAttackStaleRetryAfterOutage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sA := githubtest.SHA("A")
	pA := h.push(sA, []string{wfPath})
	// attempt 1 of A: tarball not available yet (outage) -> error, job retried
	errA := h.deliverAs("dA", "push", pA, h.clock.Add(1e9))
	t.Logf("attempt 1 of A: %v", errA)
	sB, pB := h.commit("B", starter("new"))
	if err := h.deliverAs("dB", "push", pB, h.clock.Add(2e9)); err != nil {
		t.Fatal(err)
	}
	liveB := h.live("addClaims")
	h.gh.Commit(t, testRepo, sA, starter("old"))
	// attempt 2 of A (same delivery, same ReceivedAt)
	if err := h.deliverAs("dA", "push", pA, h.clock.Add(1e9)); err != nil {
		t.Fatal(err)
	}
	d, _ := h.svc.Deployment(context.Background(), DefaultEnvironment, h.live("addClaims"))
	t.Logf("live B=%s now=%s commit=%s (A=%s B=%s)", liveB, d.ID, short(d.CommitSHA), short(sA), short(sB))
	if d.CommitSHA == sA {
		t.Errorf("HOLE: the stale retry of older push A replaced newer live B")
	}
}

// /make-live with a deployment id of ANOTHER workflow.
func TestAttackMakeLiveCrossWorkflow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fs := starter("gold")
	fs["kindeSrc/environment/workflows/other/otherWorkflow.ts"] = `export const workflowSettings = { id: "other", trigger: "user:post_authentication", bindings: {} };
export default async function f() { }
`
	s, p := h.commit("cw", fs, wfPath)
	if err := h.deliver("push", p); err != nil {
		t.Fatal(err)
	}
	_ = s
	other := h.liveIn("other")
	h.gh.SetPermission(testRepo, "wanda", "write")
	if err := h.deliver("issue_comment", h.comment("created", "/make-live addClaims "+other, "wanda", "User", 9)); err != nil {
		t.Fatal(err)
	}
	cs := h.gh.Comments(testRepo)
	t.Logf("reply: %s", cs[len(cs)-1].Body)
	if h.live("addClaims") == other {
		t.Errorf("HOLE: workflow addClaims now runs other's deployment %s", other)
	}
}

func (h *harness) liveIn(wf string) string { return h.live(wf) }
