package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// githubStub is a stand-in for GitHub's OAuth web flow and the two REST
// calls sign-in makes, on 127.0.0.1, speaking GitHub's protocol: authorize
// redirects back with a one-use code and the state, access_token trades
// code + client credentials for a token (errors as a 200 JSON body, as
// GitHub answers), /user and /repos/{owner}/{repo} answer per token.
type githubStub struct {
	srv *httptest.Server
	mu  sync.Mutex
	// as is the login the next authorize approves ("" denies).
	as     string
	codes  map[string]string            // code -> login
	tokens map[string]string            // token -> login
	repos  map[string]map[string]string // login -> "owner/repo" -> role
	public map[string]bool              // "owner/repo" -> public (anyone signed in may pull)
	seq    int
	down   bool         // the API answers 502, as GitHub does in an outage
	later  atomic.Int64 // how far the console's clock is ahead of the real one (ns)
}

// now is the console's clock in GitHub tests: advance moves it on.
func (g *githubStub) now() time.Time { return time.Now().Add(time.Duration(g.later.Load())) }

func (g *githubStub) advance(d time.Duration) { g.later.Add(int64(d)) }

const (
	stubClientID     = "Iv1.console-test"
	stubClientSecret = "stub-client-secret"
)

func newGitHubStub(t testing.TB) *githubStub {
	g := &githubStub{codes: map[string]string{}, tokens: map[string]string{}, repos: map[string]map[string]string{}, public: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", g.accessToken)
	mux.HandleFunc("GET /api/v3/user", g.user)
	mux.HandleFunc("GET /api/v3/repos/{owner}/{repo}", g.repo)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *githubStub) oauth() *GitHubOAuth {
	return &GitHubOAuth{ClientID: stubClientID, ClientSecret: stubClientSecret, WebURL: g.srv.URL + "/", APIURL: g.srv.URL + "/api/v3/"}
}

func (g *githubStub) signInAs(login string) {
	g.mu.Lock()
	g.as = login
	g.mu.Unlock()
}

func (g *githubStub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != stubClientID || err != nil || back.Host == "" {
		http.Error(w, "bad authorize request", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	login := g.as
	g.seq++
	code := "code" + strings.Repeat("x", g.seq)
	if login != "" {
		g.codes[code] = login
	}
	g.mu.Unlock()
	v := back.Query()
	if login == "" {
		v.Set("error", "access_denied")
	} else {
		v.Set("code", code)
	}
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (g *githubStub) accessToken(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	if r.PostForm.Get("client_id") != stubClientID || r.PostForm.Get("client_secret") != stubClientSecret {
		json.NewEncoder(w).Encode(map[string]string{"error": "incorrect_client_credentials"})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	login, ok := g.codes[r.PostForm.Get("code")]
	delete(g.codes, r.PostForm.Get("code"))
	if !ok {
		json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code"})
		return
	}
	g.seq++
	tok := "gho_" + login + strings.Repeat("0", g.seq)
	g.tokens[tok] = login
	json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "bearer", "scope": ""})
}

func (g *githubStub) who(r *http.Request) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
}

func (g *githubStub) user(w http.ResponseWriter, r *http.Request) {
	login := g.who(r)
	if login == "" {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"login": login, "id": 1})
}

func (g *githubStub) repo(w http.ResponseWriter, r *http.Request) {
	login := g.who(r)
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	g.mu.Lock()
	role, public, down := g.repos[login][full], g.public[full], g.down
	g.mu.Unlock()
	if down {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	if login == "" {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	if public && role == "" {
		role = "read" // what GitHub answers anyone about a public repository
	}
	if login == "" || role == "" {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	rank := permissionRank[role]
	json.NewEncoder(w).Encode(map[string]any{"full_name": full, "private": !public, "permissions": map[string]bool{
		"pull": rank >= 1, "triage": rank >= 2, "push": rank >= 3, "maintain": rank >= 4, "admin": rank >= 5}})
}

// githubHarness is the harness with GitHub sign-in on, and environment
// "staging" synced from another repository.
func githubHarness(t *testing.T) (*harness, *githubStub) {
	g := newGitHubStub(t)
	h := newHarness(t)
	if err := h.deploy.EnsureEnvironment(t.Context(), "staging"); err != nil {
		t.Fatal(err)
	}
	if err := h.db.PutSource(t.Context(), storeSource("staging", "acme/other")); err != nil {
		t.Fatal(err)
	}
	var err error
	h.con, err = New(Options{Deploy: h.deploy, Runner: h.con.opts.Runner, AdminToken: adminToken, GitHub: g.oauth(), Logger: newTestLogger(h.logs), Now: g.now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, hd := range h.con.Routes() {
		mux.Handle(p, hd)
	}
	h.srv.Config.Handler = mux
	g.repos["reader"] = map[string]string{"acme/flows": "read"}
	g.repos["writer"] = map[string]string{"acme/flows": "write", "acme/other": "triage"}
	return h, g
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
		g.signInAs("reader")
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
		g.signInAs("writer")
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
		g.signInAs("stranger")
		c := h.client()
		if resp := c.githubSignIn(); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("stranger's sign-in: %d, want 403", resp.StatusCode)
		}
		if resp, _ := c.get("/console/env/prod/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("stranger opened prod: %d", resp.StatusCode)
		}
	})
	t.Run("denied at GitHub", func(t *testing.T) {
		g.signInAs("")
		c := h.client()
		resp := c.githubSignIn()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("denied sign-in: %d", resp.StatusCode)
		}
	})
	t.Run("a callback that did not start here is refused", func(t *testing.T) {
		g.signInAs("writer")
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
