package githubapp

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// localRegistry serves the real @kinde/infrastructure 0.9.0 tarball the
// way the npm registry does (packument, then tarball).
func localRegistry(t testing.TB) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	tgz, err := os.ReadFile(filepath.Join("..", "npm", "testdata", "kinde-infrastructure-0.9.0.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(tgz)
	var tarballs atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/@kinde/infrastructure" || r.URL.Path == "/@kinde%2finfrastructure" || strings.EqualFold(r.URL.EscapedPath(), "/@kinde%2Finfrastructure"):
			json.NewEncoder(w).Encode(map[string]any{
				"name": "@kinde/infrastructure", "dist-tags": map[string]string{"latest": "0.9.0"},
				"versions": map[string]any{"0.9.0": map[string]any{"name": "@kinde/infrastructure", "version": "0.9.0",
					"dist": map[string]string{"tarball": srv.URL + "/t/infra-0.9.0.tgz", "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}}},
			})
		case r.URL.Path == "/t/infra-0.9.0.tgz":
			tarballs.Add(1)
			w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &tarballs
}

// A workflow importing @kinde/infrastructure gets it from the configured
// registry — never from the node_modules the commit carries.
func TestPushInstallsAllowedPackagesFromTheRegistry(t *testing.T) {
	t.Parallel()
	reg, tarballs := localRegistry(t)
	h := newHarness(t, func(o *harnessOptions) {
		o.NPM.Registry = reg.URL
		o.NPM.Allow = []string{"@kinde/infrastructure"}
	})
	fs := files{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		// A committed copy that would deny everyone: it must not be used.
		"node_modules/@kinde/infrastructure/package.json": `{"name": "@kinde/infrastructure", "main": "index.js"}`,
		"node_modules/@kinde/infrastructure/index.js":     `throw new Error("committed node_modules used");`,
		wfPath: `import { accessTokenCustomClaims } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "addClaims",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {} },
};

export default async function addClaims(event: any) {
  const claims = accessTokenCustomClaims<{ plan: string }>();
  claims.plan = "gold";
}
`,
	}
	s := githubtest.SHA("npm")
	h.gh.Commit(t, testRepo, s, fs)
	if err := h.deliver("push", h.push(s, []string{wfPath})); err != nil {
		t.Fatal(err)
	}
	cs := h.checks(s)
	if h.live("addClaims") == "" || cs[CheckBuild].Conclusion != "success" {
		t.Fatalf("not live: sync %s %s / build %s %s", cs[CheckSync].Conclusion, cs[CheckSync].Summary, cs[CheckBuild].Conclusion, cs[CheckBuild].Summary)
	}
	if tarballs.Load() == 0 {
		t.Fatal("the package did not come from the registry")
	}
	// Not on the allow-list: a located build error, nothing fetched.
	h2 := newHarness(t, func(o *harnessOptions) { o.NPM.Registry = reg.URL; o.NPM.Allow = []string{"left-pad"} })
	before := tarballs.Load()
	h2.gh.Commit(t, testRepo, s, fs)
	if err := h2.deliver("push", h2.push(s, []string{wfPath})); err != nil {
		t.Fatal(err)
	}
	b := h2.checks(s)[CheckBuild]
	if b.Conclusion != "failure" || len(b.Annotations) == 0 || b.Annotations[0]["path"] != wfPath {
		t.Fatalf("refused package: %s %v", b.Conclusion, b.Annotations)
	}
	if tarballs.Load() != before {
		t.Error("a package off the allow-list was downloaded")
	}
}
