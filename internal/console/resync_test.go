package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/deploy"
)

// The Syncs page's "Sync again" button syncs the last synced
// commit again (here the service's own sync of the unchanged tree stands
// in for the GitHub integration's); it needs the form's CSRF token, and
// there is no button without the integration.
func TestSyncAgainButton(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	tok := c.mustSignIn()
	if _, page := c.get("/console/env/prod/syncs"); strings.Contains(page, "Sync again") {
		t.Fatal("a Sync again button without the GitHub integration")
	}
	if resp, _ := c.do("POST", "/console/env/prod/sync-again", url.Values{"_csrf": {tok}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("without the integration: %d, want 404", resp.StatusCode)
	}
	const sha = "2222222222222222222222222222222222222222"
	var calls []string
	h.con.opts.SyncAgain = func(ctx context.Context, env string) (string, error) {
		calls = append(calls, env)
		// What the GitHub integration does: the same commit again, as a new
		// sync on purpose (a resync key).
		h.serve(sha, writeRepo(t, map[string]string{claimsFile: claimsWorkflow("v2")}))
		_, err := h.deploy.Sync(ctx, deploy.SyncRequest{Env: env, CommitSHA: sha, Resync: "console-test",
			Source: deploy.JobSource{Kind: "github", Ref: "acme/flows"}})
		return sha, err
	}
	syncs := func() int {
		s, err := h.deploy.Syncs(t.Context(), "prod", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(s)
	}
	before := syncs()
	_, page := c.get("/console/env/prod/syncs")
	if !strings.Contains(page, `action="/console/env/prod/sync-again"`) {
		t.Fatalf("no Sync again form:\n%s", page)
	}
	if resp, _ := c.do("POST", "/console/env/prod/sync-again", url.Values{"_csrf": {"forged"}}); resp.StatusCode == http.StatusSeeOther || len(calls) != 0 {
		t.Fatalf("a forged form: %d, %d calls", resp.StatusCode, len(calls))
	}
	resp, _ := c.do("POST", "/console/env/prod/sync-again", url.Values{"_csrf": {csrf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || strings.Join(calls, ",") != "prod" || syncs() != before+1 {
		t.Fatalf("sync again: %d, calls %v, %d syncs (was %d)", resp.StatusCode, calls, syncs(), before)
	}
	if _, page := c.get(resp.Header.Get("Location")); !strings.Contains(page, "The last synced commit was synced again") {
		t.Fatalf("no notice after sync again:\n%s", page)
	}
}
