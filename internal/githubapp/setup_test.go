package githubapp

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

func TestSetupManifestFlow(t *testing.T) {
	t.Parallel()
	gh, _ := fakeGitHub(t)
	var saved []StoredApp
	s := &Setup{State: "s3cret-state", PublicURL: "https://flowgate.example.com/", APIURL: gh.URL, WebURL: "https://github.example",
		Save: func(a StoredApp) error { saved = append(saved, a); return nil }}
	srv := httptest.NewServer(s)
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{SetupPath, SetupPath + "?state=wrong", SetupCallbackPath + "?code=abc", SetupCallbackPath + "?code=abc&state=s3cret-stat"} {
		if st, _ := get(p); st != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", p, st)
		}
	}
	st, page := get(SetupPath + "?state=s3cret-state")
	if st != 200 {
		t.Fatalf("setup page: %d", st)
	}
	if !strings.Contains(page, `action="https://github.example/settings/apps/new?state=s3cret-state"`) {
		t.Errorf("form action:\n%s", page)
	}
	m := regexp.MustCompile(`name="manifest" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no manifest in the page:\n%s", page)
	}
	var manifest struct {
		URL   string            `json:"url"`
		Hook  map[string]any    `json:"hook_attributes"`
		Redir string            `json:"redirect_url"`
		Perms map[string]string `json:"default_permissions"`
		Evs   []string          `json:"default_events"`
		Pub   bool              `json:"public"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.Hook["url"] != "https://flowgate.example.com/webhooks/github" || manifest.Redir != "https://flowgate.example.com"+SetupCallbackPath || manifest.Pub {
		t.Errorf("manifest %+v", manifest)
	}
	wantPerms := map[string]string{"checks": "write", "contents": "read", "deployments": "write", "issues": "write", "pull_requests": "read", "metadata": "read"}
	for k, v := range wantPerms {
		if manifest.Perms[k] != v {
			t.Errorf("permission %s = %q, want %q", k, manifest.Perms[k], v)
		}
	}
	if len(manifest.Perms) != len(wantPerms) || strings.Join(manifest.Evs, ",") != "push,pull_request,issue_comment,check_run,check_suite" {
		t.Errorf("permissions %v, events %v", manifest.Perms, manifest.Evs)
	}
	if st, page := get(SetupPath + "?state=s3cret-state&org=acme"); st != 200 || !strings.Contains(page, "/organizations/acme/settings/apps/new") {
		t.Errorf("org page: %d", st)
	}
	if st, _ := get(SetupPath + "?state=s3cret-state&org=" + "a%22%3E%3Cscript%3E"); st != http.StatusBadRequest {
		t.Errorf("hostile org: %d", st)
	}

	if st, _ := get(SetupCallbackPath + "?state=s3cret-state&code=unknown"); st != http.StatusBadGateway || len(saved) != 0 {
		t.Fatalf("unknown code: %d, saved %d", st, len(saved))
	}
	if st, _ := get(SetupCallbackPath + "?state=s3cret-state&code=../../x"); st != http.StatusBadRequest {
		t.Fatalf("hostile code: %d", st)
	}
	gh.ManifestCode("c0de")
	st, done := get(SetupCallbackPath + "?state=s3cret-state&code=c0de")
	if st != 200 || len(saved) != 1 {
		t.Fatalf("callback: %d, saved %d: %s", st, len(saved), done)
	}
	if a := saved[0]; a.AppID != gh.AppID || !strings.Contains(a.PrivateKey, "PRIVATE KEY") || a.WebhookSecret != gh.WebhookSecret {
		t.Fatalf("saved %+v", a)
	}
	if strings.Contains(done, saved[0].WebhookSecret) || strings.Contains(done, "PRIVATE KEY") {
		t.Fatal("the page shows the credentials")
	}
	if st, _ := get(SetupPath + "?state=s3cret-state"); st != http.StatusGone {
		t.Errorf("setup after completion: %d, want 410", st)
	}
}

func TestStoredAppFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, ok, err := LoadStoredApp(dir); ok || err != nil {
		t.Fatalf("empty dir: %v %v", ok, err)
	}
	key, err := githubtest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	in := StoredApp{AppID: 5, Slug: "x", PrivateKey: pemKey, WebhookSecret: "w"}
	if err := SaveStoredApp(dir, in); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, StoredAppFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode: %v %v", fi.Mode(), err)
	}
	out, ok, err := LoadStoredApp(dir)
	if !ok || err != nil || out != in {
		t.Fatalf("round trip: %+v %v %v", out, ok, err)
	}
	if err := SaveStoredApp(dir, StoredApp{AppID: 5}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadStoredApp(dir); err == nil {
		t.Fatal("an incomplete file was accepted")
	}
}
