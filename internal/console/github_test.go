package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/store"
)

// githubHarness is the harness with GitHub sign-in on, through the local
// GitHub (its REST API under /api/v3, as GitHub Enterprise Server serves
// it) and on its clock, and environment "prod" (acme/flows) joined by
// "staging", synced from acme/other. reader may read acme/flows; writer
// may write it and triage acme/other.
func githubHarness(t *testing.T) (*harness, *githubtest.Server) {
	gh := githubtest.Start(t)
	h := newHarness(t)
	if err := h.deploy.EnsureEnvironment(t.Context(), "staging"); err != nil {
		t.Fatal(err)
	}
	if err := h.db.PutSource(t.Context(), storeSource("staging", "acme/other")); err != nil {
		t.Fatal(err)
	}
	oauth := &GitHubOAuth{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, WebURL: gh.URL + "/", APIURL: gh.URL + "/api/v3/"}
	var err error
	h.con, err = New(Options{Deploy: h.deploy, Runner: h.con.opts.Runner, AdminToken: adminToken, GitHub: oauth, Logger: newTestLogger(h.logs), Now: gh.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, hd := range h.con.Routes() {
		mux.Handle(p, hd)
	}
	h.srv.Config.Handler = mux
	gh.SetPermission("acme/flows", "reader", "read")
	gh.SetPermission("acme/flows", "writer", "write")
	gh.SetPermission("acme/other", "writer", "triage")
	return h, gh
}

// githubDown makes GitHub answer 502 to repository look-ups, as in an
// outage, until gh.ClearFaults.
func githubDown(gh *githubtest.Server) {
	gh.Fail(githubtest.Fault{Method: "GET", PathPrefix: "/api/v3/repos/", Status: http.StatusBadGateway, Count: 1 << 30})
}

// githubSignIn follows the whole redirect dance as a browser would.
func (c *client) githubSignIn() *http.Response {
	c.t.Helper()
	resp, _ := c.get("/console/signin/github?next=/console/")
	for i := 0; i < 5 && resp.StatusCode/100 == 3; i++ {
		loc := resp.Header.Get("Location")
		req, _ := http.NewRequest("GET", loc, nil)
		if strings.HasPrefix(loc, "/") {
			req, _ = http.NewRequest("GET", c.h.srv.URL+loc, nil)
		}
		if strings.HasPrefix(req.URL.Path, "/console/") && req.URL.Path != githubReturn {
			return resp // back on a console page: signed in (or not)
		}
		var err error
		if resp, err = c.c.Do(req); err != nil {
			c.t.Fatal(err)
		}
		resp.Body.Close()
	}
	return resp
}

func TestGitHubSignInPermissions(t *testing.T) {
	h, g := githubHarness(t)
	postMakeLive := func(c *client, tok string) int {
		resp, _ := c.do("POST", "/console/env/prod/workflows/claims/deployments/"+h.v1+"/make-live", url.Values{"_csrf": {tok}})
		return resp.StatusCode
	}
	live := func() string {
		wf, _ := h.deploy.Workflow(t.Context(), "prod", "claims")
		return wf.LiveDeploymentID
	}

	t.Run("reader sees prod only and cannot change it", func(t *testing.T) {
		g.SignInAs("reader")
		c := h.client()
		if resp := c.githubSignIn(); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
			t.Fatalf("sign-in ended with %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, envs := c.get("/console/")
		if !strings.Contains(envs, `href="/console/env/prod/"`) || strings.Contains(envs, "staging") || strings.Contains(envs, `href="/console/env/production/"`) {
			t.Fatalf("reader's environments:\n%s", envs)
		}
		if resp, _ := c.get("/console/env/staging/"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("reader opened staging: %d", resp.StatusCode)
		}
		_, page := c.get("/console/env/prod/workflows/claims")
		if strings.Contains(page, "Make live") || strings.Contains(page, "Roll back") || !strings.Contains(page, "Signed in as <strong>reader</strong>") {
			t.Fatalf("reader's workflow page offers changes:\n%s", page)
		}
		if code := postMakeLive(c, csrf(t, page)); code != http.StatusForbidden || live() != h.v2 {
			t.Fatalf("reader's make-live: %d, live %s", code, live())
		}
	})
	t.Run("writer changes prod, recorded by login", func(t *testing.T) {
		g.SignInAs("writer")
		c := h.client()
		c.githubSignIn()
		_, page := c.get("/console/env/prod/workflows/claims")
		if !strings.Contains(page, "Make live") {
			t.Fatalf("writer's page has no Make live:\n%s", page)
		}
		if code := postMakeLive(c, csrf(t, page)); code != http.StatusSeeOther || live() != h.v1 {
			t.Fatalf("writer's make-live: %d, live %s", code, live())
		}
		flips, _ := h.deploy.Flips(t.Context(), "prod", "claims", 1)
		if len(flips) != 1 || flips[0].Actor != "writer (console)" {
			t.Fatalf("newest flip %+v, want by writer", flips)
		}
		if !strings.Contains(h.logs.String(), "actor=writer") {
			t.Fatal("no audit line by writer")
		}
		// triage on staging's repository: read, not change.
		_, sp := c.get("/console/env/staging/variables")
		if strings.Contains(sp, "Set a variable") {
			t.Fatal("triage may set variables")
		}
		resp, _ := c.do("POST", "/console/env/staging/variables", url.Values{"_csrf": {csrf(t, sp)}, "name": {"X"}, "value": {"1"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("triage set a variable: %d", resp.StatusCode)
		}
	})
	t.Run("stranger is not signed in", func(t *testing.T) {
		g.SignInAs("stranger")
		c := h.client()
		if resp := c.githubSignIn(); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("stranger's sign-in: %d, want 403", resp.StatusCode)
		}
		if resp, _ := c.get("/console/env/prod/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("stranger opened prod: %d", resp.StatusCode)
		}
	})
	t.Run("denied at GitHub", func(t *testing.T) {
		g.SignInAs("")
		c := h.client()
		resp := c.githubSignIn()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("denied sign-in: %d", resp.StatusCode)
		}
	})
	t.Run("a callback that did not start here is refused", func(t *testing.T) {
		g.SignInAs("writer")
		victim, attacker := h.client(), h.client()
		// The attacker starts a sign-in and hands the callback to the victim.
		resp, _ := attacker.get("/console/signin/github")
		authz, _ := http.NewRequest("GET", resp.Header.Get("Location"), nil)
		r2, err := attacker.c.Do(authz)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		cb, _ := url.Parse(r2.Header.Get("Location"))
		victim.get("/console/signin/github") // the victim has a sign-in of their own going
		resp, body := victim.get(cb.RequestURI())
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "state mismatch") {
			t.Fatalf("foreign callback: %d %s", resp.StatusCode, body)
		}
		fresh := h.client()
		if resp, _ := fresh.get(cb.RequestURI()); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("callback without the state cookie: %d", resp.StatusCode)
		}
	})
}

func TestGitHubOAuthOptions(t *testing.T) {
	for name, g := range map[string]GitHubOAuth{
		"no secret":      {ClientID: "x"},
		"read to change": {ClientID: "x", ClientSecret: "y", MinPermission: "read"},
		"unknown role":   {ClientID: "x", ClientSecret: "y", MinPermission: "owner"},
	} {
		if err := g.defaults(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for perms, want := range map[string]string{"pull": "read", "pull,push": "write", "pull,push,maintain,admin": "admin", "": ""} {
		p := map[string]bool{}
		for _, k := range strings.Split(perms, ",") {
			if k != "" {
				p[k] = true
			}
		}
		if got := roleOf(p); got != want {
			t.Errorf("roleOf(%s) = %q, want %q", perms, got, want)
		}
	}
}

func storeSource(env, repo string) store.Source {
	return store.Source{Env: env, Kind: "github", Ref: repo, Branch: "main"}
}
