package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

const adminToken = "test-admin-token-0123456789abcdef"

// harness is a console over a real SQLite store, artifact directory and
// in-process sandbox, with environment "prod" synced twice (v1, v2 of
// workflow "claims"), one failed sync with diagnostics, and runtime logs.
type harness struct {
	t      testing.TB
	srv    *httptest.Server
	deploy *deploy.Service
	db     *store.DB // the database the harness opened, for raw setup
	con    *Console
	logs   *strings.Builder
	v1, v2 string // deployment ids of claims
	serve  func(sha, dir string)
}

// githubSource registers a "github" source kind that serves each commit
// from a directory the test wrote, so sync records name github:acme/flows
// (the console links their diagnostics to GitHub).
func githubSource(svc *deploy.Service) func(sha, dir string) {
	var mu sync.Mutex
	dirs := map[string]string{}
	svc.RegisterSource("github", deploy.FetcherFunc(func(ctx context.Context, _ deploy.JobSource, sha, dst string) (deploy.Fetched, error) {
		mu.Lock()
		dir := dirs[sha]
		mu.Unlock()
		return deploy.DirFetcher.Fetch(ctx, deploy.JobSource{Kind: "dir", Ref: dir}, sha, dst)
	}), nil)
	return func(sha, dir string) {
		mu.Lock()
		dirs[sha] = dir
		mu.Unlock()
	}
}

// syncGitHub syncs files as commit sha of github:acme/flows.
func (h *harness) syncGitHub(sha string, files map[string]string) (*deploy.SyncResult, error) {
	h.serve(sha, writeRepo(h.t, files))
	return h.deploy.Sync(context.Background(), deploy.SyncRequest{Env: "prod", CommitSHA: sha,
		Source: deploy.JobSource{Kind: "github", Ref: "acme/flows"}})
}

func claimsWorkflow(tag string) string {
	return `export const workflowSettings = {
  id: "claims", name: "Add claims", trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, "kinde.env": {} },
};
export default async function handle(event: any) {
  const key = kinde.env.get("API_KEY")?.value ?? "none";
  kinde.accessToken.setCustomClaim("version", "` + tag + `");
  kinde.accessToken.setCustomClaim("user", event.context.user.id);
  console.log("calling with key " + key);
}
declare const kinde: any;
`
}

func writeRepo(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["kinde.json"] = `{"rootDir": "kindeSrc", "version": "2024-12-09"}`
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const claimsFile = "kindeSrc/environment/workflows/claimsWorkflow.ts"

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "flowgate.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arts, err := artifact.OpenDir(t.TempDir(), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: arts, Cipher: cipher})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, deploy: svc, db: db, logs: &strings.Builder{}, serve: githubSource(svc)}
	sync := func(sha string, files map[string]string) *deploy.SyncResult {
		res, err := h.syncGitHub(sha, files)
		if err != nil {
			t.Fatalf("sync %s: %v", sha, err)
		}
		return res
	}
	r1 := sync("1111111111111111111111111111111111111111", map[string]string{claimsFile: claimsWorkflow("v1")})
	r2 := sync("2222222222222222222222222222222222222222", map[string]string{claimsFile: claimsWorkflow("v2")})
	if len(r1.Deployments) != 1 || len(r2.Deployments) != 1 {
		t.Fatalf("syncs made %d and %d deployments, want 1 each", len(r1.Deployments), len(r2.Deployments))
	}
	h.v1, h.v2 = r1.Deployments[0].ID, r2.Deployments[0].ID
	bad := sync("3333333333333333333333333333333333333333", map[string]string{claimsFile: "export const workflowSettings = {id: \"claims\", trigger: \"user:tokens_generation\"};\nexport default function (\n"})
	if bad.Sync.Status != store.SyncFailed {
		t.Fatalf("broken sync status %s, want failed", bad.Sync.Status)
	}
	if err := db.PutSource(ctx, store.Source{Env: "prod", Kind: "github", Ref: "acme/flows", Branch: "main"}); err != nil {
		t.Fatal(err)
	}

	runner := sandbox.NewInProcess(sandbox.Options{})
	t.Cleanup(func() { runner.Close() })
	h.con, err = New(Options{Deploy: svc, Runner: runner, AdminToken: adminToken,
		Logger: newTestLogger(h.logs)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, hd := range h.con.Routes() {
		mux.Handle(p, hd)
	}
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// addRuntimeLogs writes invocations of claims: ok succeeded and fail
// failed with a timeout, one every `every` back from now, each with a log line holding a
// redacted secret.
func (h *harness) addRuntimeLogs(ok, fail int, every time.Duration) {
	h.t.Helper()
	now := time.Now().UTC()
	var rows []store.RuntimeLog
	for i := range ok + fail {
		at := now.Add(-time.Duration(i) * every)
		inv := fmt.Sprintf("inv_%04d", i)
		base := store.RuntimeLog{InvocationID: inv, Env: "prod", WorkflowID: "claims", DeploymentID: h.v2, Trigger: "user:tokens_generation", At: at}
		line := base
		line.Level, line.Message = "info", "calling with key ***"
		out := base
		out.Level, out.Status, out.Message, out.Duration = "info", "succeeded", "invocation succeeded", time.Duration(1+i%5)*time.Millisecond
		if i >= ok {
			out.Level, out.Status, out.Message = "error", "failed", "invocation failed (timeout): the workflow ran past its time limit"
		}
		rows = append(rows, line, out)
	}
	if err := h.deploy.AppendRuntimeLogs(context.Background(), rows); err != nil {
		h.t.Fatal(err)
	}
}

// client is a browser-like HTTP client: a cookie jar, no redirects followed.
type client struct {
	t   testing.TB
	h   *harness
	c   *http.Client
	jar *cookiejar.Jar
}

func (h *harness) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: h.t, h: h, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) do(method, path string, form url.Values, hdr ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.h.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) { return c.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf reads the form token from a page.
func csrf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", page)
	}
	return m[1]
}

// signIn signs the client in with token and returns the session's CSRF token.
func (c *client) signIn(token string) (*http.Response, string) {
	c.t.Helper()
	_, page := c.get("/console/signin")
	return c.do("POST", "/console/signin", url.Values{"_csrf": {csrf(c.t, page)}, "token": {token}, "next": {"/console/"}})
}

func (c *client) mustSignIn() string {
	c.t.Helper()
	resp, body := c.signIn(adminToken)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	_, page := c.get("/console/env/prod/")
	return csrf(c.t, page)
}
