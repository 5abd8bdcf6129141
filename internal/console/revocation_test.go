package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSignedOutCookieIsDead: a session cookie copied before sign-out
// (stolen from a shared machine, a proxy log, a backup of the browser
// profile) must stop working when its owner signs out.
func TestSignedOutCookieIsDead(t *testing.T) {
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

// TestGitHubSessionEndsWithItsToken: a person who revokes Flowgate's
// access on GitHub (or whose token GitHub stops accepting) is signed out
// at the next re-check; GitHub being down keeps the roles last read.
func TestGitHubSessionEndsWithItsToken(t *testing.T) {
	h, g := githubHarness(t)
	g.SignInAs("writer")
	c := h.client()
	c.githubSignIn()
	githubDown(g)
	g.Advance(6 * time.Minute)
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GitHub down at the re-check: %d, want the roles last read to hold", resp.StatusCode)
	}
	g.ClearFaults()
	g.RevokeUserTokens()
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a token GitHub no longer accepts still opens the console: %d", resp.StatusCode)
	}
}

// TestGitHubTokenSealedAtRest: the person's GitHub token is kept to read
// roles again, never in the clear in the database.
func TestGitHubTokenSealedAtRest(t *testing.T) {
	h, g := githubHarness(t)
	g.SignInAs("writer")
	h.client().githubSignIn()
	tokens := g.UserTokens()
	if len(tokens) == 0 {
		t.Fatal("the local GitHub issued no token")
	}
	rows, err := h.db.SQL().QueryContext(t.Context(), `SELECT github_token, perms FROM console_sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var sealed, perms string
		if err := rows.Scan(&sealed, &perms); err != nil {
			t.Fatal(err)
		}
		n++
		for _, tok := range tokens {
			if sealed == "" || strings.Contains(sealed, tok) {
				t.Fatalf("session row keeps the GitHub token %q as %q", tok, sealed)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d session rows, want 1", n)
	}
}

// TestGitHubSignInWithoutAccessStoresNoSession: anyone with a GitHub
// account can go through the OAuth flow. Someone who can read none of the
// environments' repositories must not get a session row (with a sealed
// token, re-checked against GitHub) per sign-in: scripted sign-ins would
// grow console_sessions without bound until the rows expire.
func TestGitHubSignInWithoutAccessStoresNoSession(t *testing.T) {
	h, g := githubHarness(t)
	g.SetPublic("acme/flows", true) // pull on a public repository counts for nothing
	g.SignInAs("stranger")
	for range 5 {
		resp := h.client().githubSignIn()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("sign-in of someone with no environment: %d, want 403", resp.StatusCode)
		}
	}
	var n int
	if err := h.db.SQL().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM console_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d session rows for sign-ins that can see nothing, want 0", n)
	}
	g.SetPublic("acme/flows", false)
	g.SignInAs("reader")
	if resp := h.client().githubSignIn(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reader's sign-in: %d", resp.StatusCode)
	}
}

// TestGitHubRolesDoNotOutliveFailedRechecks: a failed re-check keeps the
// roles last read, but not for ever: someone removed from the repository
// whose re-checks keep failing (an outage, or GitHub rate-limiting that
// person's requests) must lose the environment within a bounded time.
func TestGitHubRolesDoNotOutliveFailedRechecks(t *testing.T) {
	h, g := githubHarness(t)
	g.SignInAs("writer")
	c := h.client()
	c.githubSignIn()
	g.SetPermission("acme/flows", "writer", "")
	githubDown(g)
	g.Advance(6 * time.Minute)
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusOK {
		t.Fatalf("one failed re-check: %d, want the roles last read to hold", resp.StatusCode)
	}
	for range 24 { // two hours of failed re-checks, one every five minutes
		g.Advance(5 * time.Minute)
		c.get("/console/")
	}
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode == http.StatusOK {
		t.Fatal("two hours of failed re-checks later, the removed writer still opens prod")
	}
	g.ClearFaults()
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GitHub back, the re-check must drop prod: %d", resp.StatusCode)
	}
}

// TestGitHubSessionEndsWhenGitHubSignInIsTurnedOff: GitHub sessions hold
// roles only while the console can read them again. Once GitHub sign-in
// is turned off (the client credentials removed), nothing re-checks them,
// so they must stop working instead of keeping their last roles until
// they expire.
func TestGitHubSessionEndsWhenGitHubSignInIsTurnedOff(t *testing.T) {
	h, g := githubHarness(t)
	g.SignInAs("writer")
	c := h.client()
	c.githubSignIn()
	off, err := New(Options{Deploy: h.deploy, Runner: h.con.opts.Runner, AdminToken: adminToken, Logger: newTestLogger(h.logs), Now: g.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, hd := range off.Routes() {
		mux.Handle(p, hd)
	}
	h.srv.Config.Handler = mux
	g.Advance(6 * time.Minute)
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("with GitHub sign-in off, a GitHub session still opens prod: %d", resp.StatusCode)
	}
}
