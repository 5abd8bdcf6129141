package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestManageRefusesRedirects: a management command talks to the server it
// was given and nothing else. A redirect (a hostile or misconfigured
// server, or a proxy) to another port of the same host, or from https to
// http, would otherwise carry the admin token along (Go's client keeps
// Authorization for the same host name), and a 307 re-sends the body —
// a secret variable's value — to any host at all.
func TestManageRefusesRedirects(t *testing.T) {
	t.Parallel()
	const token = "admin-token-must-stay-home"
	const secret = "s3cret-value-must-stay-home"
	var mu sync.Mutex
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		leaked = append(leaked, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" body="+string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"deployments": [], "name": "X", "isSecret": true}`)
	}))
	defer other.Close()
	configured := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer configured.Close()

	for name, args := range map[string][]string{
		"read":       {"deployments", "claims"},
		"secret put": {"vars", "set", "X", secret, "--secret"},
	} {
		var out, errb strings.Builder
		full := append([]string{args[0], "--server", configured.URL, "--token", token}, args[1:]...)
		code := cli(full, &out, &errb)
		if code == exitOK {
			t.Errorf("%s: a redirect was followed (exit 0): %s", name, out.String())
		}
		if !strings.Contains(errb.String(), "redirect") {
			t.Errorf("%s: the refusal does not say the server redirected: %q", name, errb.String())
		}
		if s := out.String() + errb.String(); strings.Contains(s, token) || strings.Contains(s, secret) {
			t.Errorf("%s: output shows the token or the secret: %q", name, s)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Fatalf("the other server was called: %q", leaked)
	}
}

// TestConfigTokenStaysWithItsServer: the token in the config file is for
// the server named beside it; a command pointed elsewhere with --server
// or FLOWGATE_SERVER must not send it there.
func TestConfigTokenStaysWithItsServer(t *testing.T) {
	var mu sync.Mutex
	var got []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, `{"deployments": []}`)
	}))
	defer other.Close()
	const token = "config-file-token-for-prod"
	t.Setenv("FLOWGATE_ADMIN_TOKEN", "")
	t.Setenv("FLOWGATE_SERVER", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	dir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "flowgate")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"server": "https://prod.example", "token": "`+token+`"}`), 0o600)

	var out, errb strings.Builder
	if code := cli([]string{"deployments", "claims", "--server", other.URL}, &out, &errb); code == exitOK {
		t.Errorf("--server elsewhere used the config file's token: %s", out.String())
	}
	t.Setenv("FLOWGATE_SERVER", other.URL)
	if code := cli([]string{"deployments", "claims"}, &out, &errb); code == exitOK {
		t.Errorf("FLOWGATE_SERVER elsewhere used the config file's token: %s", out.String())
	}
	if !strings.Contains(errb.String(), "is for https://prod.example") {
		t.Errorf("the refusal does not say why: %q", errb.String())
	}
	// An explicit token for the other server works.
	if code := cli([]string{"deployments", "claims", "--token", "other-token"}, &out, &errb); code != exitOK {
		t.Errorf("explicit token: %d %s", code, errb.String())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range got {
		if strings.Contains(a, token) {
			t.Fatalf("the config file's token reached another server")
		}
	}
}
