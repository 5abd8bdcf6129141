package testenv

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
)

// NPMRegistry is a local npm registry serving the real
// @kinde/infrastructure 0.9.0 tarball (internal/npm/testdata) the way the
// public registry does: the packument, then the tarball it names, with
// its sha512 integrity. It returns the base URL and a count of tarball
// downloads. The server stops when the test ends.
func NPMRegistry(t testing.TB) (string, *atomic.Int32) {
	t.Helper()
	tgz, err := os.ReadFile(filepath.Join(Root(), "internal", "npm", "testdata", "kinde-infrastructure-0.9.0.tgz"))
	if err != nil {
		t.Fatalf("npm registry stand-in: %v", err)
	}
	sum := sha512.Sum512(tgz)
	var tarballs atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.EqualFold(r.URL.EscapedPath(), "/@kinde%2Finfrastructure") || r.URL.Path == "/@kinde/infrastructure":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"name": "@kinde/infrastructure", "dist-tags": map[string]string{"latest": "0.9.0"},
				"versions": map[string]any{"0.9.0": map[string]any{"name": "@kinde/infrastructure", "version": "0.9.0",
					"dist": map[string]string{"tarball": srv.URL + "/tarballs/infrastructure-0.9.0.tgz",
						"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}}},
			})
		case r.URL.Path == "/tarballs/infrastructure-0.9.0.tgz":
			tarballs.Add(1)
			w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &tarballs
}
