package app

import (
	"context"
	"net/http"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// The HMAC covers the body only, and X-GitHub-Delivery and X-GitHub-Event are
// not signed: a captured signed push re-posted under a new delivery id (or event
// name) must not run again and put the old commit live.
func TestAttackEndpointReplayNewID(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	r := start(t, w.cfg)
	base := r.URL()
	one := w.commit("one", "gold", false)
	body1 := w.pushPayload(one)
	sig1 := githubtest.Sign([]byte(ghSecret), body1) // what an eavesdropper/log reader has
	w.post(base, "gh-guid-1", "push", body1, sig1)
	eventually(t, "one", ghTimeout, completed(w, one))
	two := w.commit("two", "platinum", false)
	w.post(base, "gh-guid-2", "push", w.pushPayload(two), "")
	eventually(t, "two", ghTimeout, completed(w, two))
	liveTwo := liveOf(r.App, "addClaims")
	if st := w.post(base, "gh-guid-1", "push", body1, sig1); st != http.StatusOK {
		t.Fatalf("same-id replay %d", st)
	}
	// The same signed body under a new delivery id, or another event name,
	// is a duplicate: nothing runs again.
	if st := w.post(base, "attacker-guid-999", "push", body1, sig1); st != http.StatusOK {
		t.Fatalf("replay under a new delivery id answered %d, want 200 duplicate", st)
	}
	if st := w.post(base, "attacker-guid-1000", "check_suite", body1, sig1); st != http.StatusOK {
		t.Fatalf("replay as another event answered %d, want 200 duplicate", st)
	}
	// 200 "duplicate" means nothing was queued; live is what two made it.
	if got := liveOf(r.App, "addClaims"); got != liveTwo {
		d, _ := r.App.Deploy().Deployment(context.Background(), "production", got)
		t.Fatalf("a replayed push moved live from %s to %s (commit %s)", liveTwo, got, d.CommitSHA)
	}
}
