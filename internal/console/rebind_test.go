package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestGitHubRoleEndsWhenTheEnvironmentIsRebound: a GitHub user's role was
// read from the repository that fed the environment at sign-in. When the
// environment is re-bound to another repository (PUT …/github-repository),
// the person may have no access to the new one, so the session must stop
// granting anything there — not keep reading and changing it until the
// session expires.
func TestGitHubRoleEndsWhenTheEnvironmentIsRebound(t *testing.T) {
	h, g := githubHarness(t)
	g.SignInAs("writer") // write on acme/flows, which feeds prod
	c := h.client()
	c.githubSignIn()
	_, page := c.get("/console/env/prod/variables")
	if !strings.Contains(page, "Set a variable") {
		t.Fatalf("writer cannot change prod before the re-bind:\n%s", page)
	}
	tok := csrf(t, page)

	if _, err := h.deploy.RebindGitHub(t.Context(), "prod", "acme/private", 0); err != nil {
		t.Fatal(err)
	}
	if _, envs := c.get("/console/"); strings.Contains(envs, `href="/console/env/prod/"`) {
		t.Errorf("prod is still listed after it was re-bound to a repository the writer cannot read")
	}
	for _, p := range []string{"/console/env/prod/", "/console/env/prod/variables", "/console/env/prod/logs"} {
		if resp, _ := c.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after the re-bind: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, _ := c.do("POST", "/console/env/prod/variables", url.Values{"_csrf": {tok}, "name": {"PLANTED"}, "value": {"1"}})
	if resp.StatusCode == http.StatusSeeOther {
		t.Errorf("the writer set a variable on prod after the re-bind")
	}
	if _, err := h.deploy.Variable(t.Context(), "prod", "PLANTED"); err == nil {
		t.Errorf("variable PLANTED exists on prod")
	}

	// Bound back to the repository the role came from: the role holds again.
	if _, err := h.deploy.RebindGitHub(t.Context(), "prod", "acme/flows", 0); err != nil {
		t.Fatal(err)
	}
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusOK {
		t.Errorf("prod bound back to acme/flows: %d", resp.StatusCode)
	}
}

// TestLargestGitHubSessionFitsACookie: the most environments a session
// holds, with the longest names and roles, still make a cookie browsers
// keep (4096 bytes with its name), and the console reads every role back.
func TestLargestGitHubSessionFitsACookie(t *testing.T) {
	h, _ := githubHarness(t) // a GitHub session needs GitHub sign-in on
	perms := map[string]string{}
	for i := range maxEnvironmentsPerSession {
		perms[strings.Repeat("e", 62)+string(rune('A'+i))+"x"] = "maintain@" + repoTag(strings.Repeat("o", 100)+"/"+strings.Repeat("n", 99))
	}
	rec := httptest.NewRecorder()
	if _, err := h.con.startSession(t.Context(), rec, strings.Repeat("u", 39), false, perms, "gho_token"); err != nil {
		t.Fatal(err)
	}
	ck := rec.Result().Cookies()[0]
	if n := len(ck.Name) + 1 + len(ck.Value); n > 4096 {
		t.Fatalf("the session cookie is %d bytes", n)
	}
	req := httptest.NewRequest("GET", "/console/", nil)
	req.AddCookie(ck)
	s := h.con.current(req)
	if s == nil {
		t.Fatal("the console refuses its own largest session")
	}
	if len(s.Perms) != len(perms) {
		t.Fatalf("the session reads back %d of %d roles", len(s.Perms), len(perms))
	}
}

// TestGitHubRoleEndsWhenRevokedOnGitHub: someone removed from the
// repository on GitHub must lose the environment in the console too.
func TestGitHubRoleEndsWhenRevokedOnGitHub(t *testing.T) {
	h, g := githubHarness(t)
	g.SignInAs("writer")
	c := h.client()
	c.githubSignIn()
	g.SetPermission("acme/flows", "writer", "")
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusOK {
		t.Fatalf("within the re-check interval the role read at sign-in holds: %d", resp.StatusCode)
	}
	g.Advance(6 * time.Minute)
	if resp, _ := c.get("/console/env/prod/variables"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("removed from acme/flows on GitHub, the writer still opens prod: %d", resp.StatusCode)
	}
}

// TestPublicRepositoryGrantsNoOneTheEnvironment: GitHub says every
// signed-in person can pull a public repository. That must not open the
// environment it feeds (runtime logs carry end users' data, variables are
// not in the repository) to everyone with a GitHub account; its
// collaborators with triage or more still get in.
func TestPublicRepositoryGrantsNoOneTheEnvironment(t *testing.T) {
	h, g := githubHarness(t)
	g.SetPublic("acme/flows", true)
	g.SetPermission("acme/flows", "triager", "triage")
	// stranger and reader can see no environment, so they are not signed
	// in at all (sent to sign-in).
	for login, want := range map[string]int{"stranger": http.StatusSeeOther, "reader": http.StatusSeeOther, "triager": http.StatusOK} {
		g.SignInAs(login)
		c := h.client()
		c.githubSignIn()
		if resp, _ := c.get("/console/env/prod/logs"); resp.StatusCode != want {
			t.Errorf("%s on public acme/flows opens prod's logs: %d, want %d", login, resp.StatusCode, want)
		}
	}
}
