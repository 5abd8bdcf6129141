package console

import (
	"net/http"
	"net/url"
	"testing"
)

// TestSignedOutCookieIsDead: a session cookie copied before sign-out
// (stolen from a shared machine, a proxy log, a backup of the browser
// profile) must stop working when its owner signs out.
func TestSignedOutCookieIsDead(t *testing.T) {
	t.Skip("hole: sessions are stateless signed cookies, so sign-out only clears the browser's copy; " +
		"a copied cookie keeps working until it expires (12 hours by default). Closing it needs a " +
		"revocation list shared by every replica (a store table checked on each request)")
	h := newHarness(t)
	c := h.client()
	tok := c.mustSignIn()
	u, _ := url.Parse(h.srv.URL)
	stolen := c.jar.Cookies(u)
	if resp, _ := c.do("POST", "/console/signout", url.Values{"_csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	thief := h.client()
	thief.jar.SetCookies(u, stolen)
	if resp, _ := thief.get("/console/env/prod/variables"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a cookie copied before sign-out still opens the console: %d", resp.StatusCode)
	}
}
