package app

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsoleMounted: the service answers / with the console, which asks
// for sign-in, while the API and health endpoints stay as they were.
func TestConsoleMounted(t *testing.T) {
	t.Parallel()
	r := start(t, Config{DataDir: t.TempDir(), Isolation: "inprocess"})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/": "/console/", "/console/": "/console/signin?next=%2Fconsole%2F"} {
		resp, err := noFollow.Get(r.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d → %q, want 303 → %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	resp, err := http.Get(r.URL() + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("sign-in page: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	for _, path := range []string{"/healthz", "/nope"} {
		resp, err := http.Get(r.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET %s: content type %q, want the API's JSON", path, ct)
		}
	}
}
