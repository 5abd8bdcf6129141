package githubtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signIn goes through the OAuth web flow as the person SignInAs names
// and returns their token.
func signIn(t *testing.T, s *Server) string {
	t.Helper()
	back := authorize(t, s, s.ClientID)
	code := back.Query().Get("code")
	if code == "" {
		t.Fatalf("authorize sent back %s", back)
	}
	var out tokenAnswer
	exchange(t, s, s.ClientID, s.ClientSecret, code, &out)
	if out.AccessToken == "" {
		t.Fatalf("no token: %q", out.Error)
	}
	return out.AccessToken
}

// authorize opens the authorize page and returns where it sends the
// browser back to.
func authorize(t *testing.T, s *Server, clientID string) *url.URL {
	t.Helper()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:1/callback"}, "state": {"st4te"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(s.URL + "/login/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("state") != "st4te" {
		t.Fatalf("authorize sent back %q without the state", resp.Header.Get("Location"))
	}
	return back
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
}

// exchange trades code at the access_token endpoint.
func exchange(t *testing.T, s *Server, id, secret, code string, out *tokenAnswer) {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/login/oauth/access_token", url.Values{"client_id": {id}, "client_secret": {secret}, "code": {code}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("access_token: %d", resp.StatusCode)
	}
	*out = tokenAnswer{}
	json.NewDecoder(resp.Body).Decode(out)
}

func TestOAuthWebFlow(t *testing.T) {
	t.Parallel()
	s := Start(t)
	if authorize(t, s, "Iv1.someone-else") != nil {
		t.Fatal("authorize accepted another App's client id")
	}
	if back := authorize(t, s, s.ClientID); back.Query().Get("error") != "access_denied" || back.Query().Get("code") != "" {
		t.Fatalf("with no one signed in: %s", back)
	}

	s.SignInAs("writer")
	code := authorize(t, s, s.ClientID).Query().Get("code")
	var out tokenAnswer
	exchange(t, s, s.ClientID, "wrong", code, &out)
	if out.Error != "incorrect_client_credentials" || out.AccessToken != "" {
		t.Fatalf("wrong client secret: %+v", out)
	}
	exchange(t, s, s.ClientID, s.ClientSecret, code, &out)
	tok := out.AccessToken
	if !strings.HasPrefix(tok, "gho_") {
		t.Fatalf("exchange: %+v", out)
	}
	exchange(t, s, s.ClientID, s.ClientSecret, code, &out)
	if out.Error != "bad_verification_code" || out.AccessToken != "" {
		t.Fatalf("a code used twice: %+v", out)
	}

	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, u := get("/api/v3/user"); st != 200 || u["login"] != "writer" {
		t.Fatalf("/user: %d %v", st, u)
	}
	perms := func() (int, string) {
		st, r := get("/api/v3/repos/acme/flows")
		p, _ := r["permissions"].(map[string]any)
		var on []string
		for _, k := range []string{"pull", "triage", "push", "maintain", "admin"} {
			if p[k] == true {
				on = append(on, k)
			}
		}
		return st, strings.Join(on, ",")
	}
	s.SetPermission(Repo, "writer", "write")
	if st, p := perms(); st != 200 || p != "pull,triage,push" {
		t.Fatalf("write: %d %s", st, p)
	}
	s.SetPermission(Repo, "writer", "")
	if st, _ := perms(); st != 404 {
		t.Fatalf("no role on a private repository: %d", st)
	}
	s.SetPublic(Repo, true)
	if st, p := perms(); st != 200 || p != "pull" {
		t.Fatalf("no role on a public repository: %d %s", st, p)
	}
	if got := s.UserTokens(); len(got) != 1 || got[0] != tok {
		t.Fatalf("user tokens %v, want [%s]", got, tok)
	}
	s.RevokeUserTokens()
	if st, _ := get("/api/v3/user"); st != 401 {
		t.Fatalf("a revoked token: %d", st)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Advance(time.Hour)
	if d := time.Until(s.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("Now is %v ahead after Advance(1h)", d)
	}
}

// TestTarballLayout: one top-level directory named after the repository
// and commit, the files under it in path order, then the raw entries.
func TestTarballLayout(t *testing.T) {
	t.Parallel()
	sha := SHA("one")
	tgz := Tarball(t, "acme/flows", sha, map[string]string{"b.txt": "bee", "a/c.txt": "sea"},
		Entry{Name: "evil", Type: tar.TypeSymlink, Linkname: "/etc"}, Entry{Name: "zeros", Type: tar.TypeReg, Body: "x", Size: 3})
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got = append(got, h.Name+"="+string(body)+h.Linkname)
	}
	p := "acme-flows-" + sha[:7] + "/"
	want := []string{p + "=", p + "a/c.txt=sea", p + "b.txt=bee", "evil=/etc", "zeros=x\x00\x00"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("entries\n%q\nwant\n%q", got, want)
	}
	if Prefix("acme/flows", sha) != p {
		t.Fatalf("Prefix = %q", Prefix("acme/flows", sha))
	}
}

// TestWebhookHelpers: payloads are re-aimed and changed by dotted path;
// signatures are GitHub's (the example of GitHub's webhook docs).
func TestWebhookHelpers(t *testing.T) {
	t.Parallel()
	var p struct {
		After      string
		Repository struct {
			ID       int64
			FullName string `json:"full_name"`
		}
		Installation struct{ ID int64 }
		HeadCommit   struct{ ID string } `json:"head_commit"`
	}
	json.Unmarshal(Push(t, "abc", []string{"x.ts"}, map[string]any{"head_commit.id": "abc"}), &p)
	if p.After != "abc" || p.Repository.ID != RepoID || p.Repository.FullName != Repo || p.Installation.ID != Installation || p.HeadCommit.ID != "abc" {
		t.Fatalf("push: %+v", p)
	}
	var inst map[string]any
	json.Unmarshal(Webhook(t, "installation", "deleted", nil), &inst)
	if _, ok := inst["repository"]; ok {
		t.Fatal("a payload without a repository got one")
	}
	if got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!")); got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Fatalf("Sign = %s", got)
	}
	req := Delivery("http://127.0.0.1:1/webhooks/github", "push", "d-1", []byte("{}"), []byte("s"))
	if req.Header.Get("X-GitHub-Event") != "push" || req.Header.Get("X-GitHub-Delivery") != "d-1" || req.Header.Get("X-Hub-Signature-256") != Sign([]byte("s"), []byte("{}")) {
		t.Fatalf("delivery headers %v", req.Header)
	}
}
