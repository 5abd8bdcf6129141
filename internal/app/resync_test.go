package app

import (
	"context"
	"net/http"
	"testing"
)

// Issue 18.6: POST …/{env}/sync syncs the environment's last synced
// commit again — after /deactivate the unchanged tree is live again with
// no new commit; it needs the admin token.
func TestSyncAgainAPI(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	r := start(t, w.cfg)
	base := r.URL()
	c := &client{t: t, base: base, bearer: r.AdminToken(), env: "production"}
	if code, res := c.admin("POST", "/sync", nil); code != http.StatusNotFound {
		t.Fatalf("before any push (no repository feeds the environment): %d %v, want 404", code, res)
	}
	one := w.commit("one", "gold", false)
	w.post(base, "", "push", w.pushPayload(one), "")
	eventually(t, "push completes", ghTimeout, completed(w, one))
	if code, _ := c.admin("POST", "/workflows/addClaims/deactivate", nil); code != http.StatusNoContent {
		t.Fatalf("deactivate: %d", code)
	}
	if liveOf(r.App, "addClaims") != "" {
		t.Fatal("setup: still live")
	}
	syncs := func() int {
		s, err := r.App.Deploy().Syncs(context.Background(), "production", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(s)
	}
	before := syncs()
	if code, _ := c.do("POST", "/api/v1/environments/production/sync", "wrong", nil); code != http.StatusUnauthorized || syncs() != before {
		t.Fatalf("a wrong token: %d", code)
	}
	code, res := c.admin("POST", "/sync", nil)
	if code != http.StatusOK || res["commitSha"] != one {
		t.Fatalf("sync again: %d %v, want 200 with %s", code, res, one)
	}
	if syncs() != before+1 || liveOf(r.App, "addClaims") == "" {
		t.Fatalf("%d syncs (was %d), live %q", syncs(), before, liveOf(r.App, "addClaims"))
	}
	if code, _ := c.admin("POST", "/../staging/sync", nil); code == http.StatusOK {
		t.Fatal("a path outside the environment was synced")
	}
}
