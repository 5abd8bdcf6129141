package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/deploy"
)

// The management commands against the real service: an app on a random
// port (SQLite, in-process sandbox) with workflow "claims" synced twice
// and one failed sync.

type service struct {
	app      *app.App
	url      string
	token    string
	v1, v2   string
	failedID string
}

func claimsRepo(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		"kindeSrc/environment/workflows/claimsWorkflow.ts": body,
	}
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

func claims(tag string) string {
	return `export const workflowSettings = { id: "claims", trigger: "user:tokens_generation", bindings: { "kinde.accessToken": {} } };
export default async function handle(event: any) {
  console.log("claims ` + tag + ` for " + event.context.user.id);
  kinde.accessToken.setCustomClaim("version", "` + tag + `");
}
declare const kinde: any;
`
}

func startService(t *testing.T) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Isolation: "inprocess", RuntimeToken: "runtime-token-for-tests"}, nil, &strings.Builder{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	s := &service{app: a, url: a.URL(), token: a.AdminToken()}
	sync := func(sha, body string) *deploy.SyncResult {
		res, err := a.Deploy().Sync(ctx, deploy.SyncRequest{Env: "production", Dir: claimsRepo(t, body), CommitSHA: sha})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	s.v1 = sync(strings.Repeat("1", 40), claims("v1")).Deployments[0].ID
	s.v2 = sync(strings.Repeat("2", 40), claims("v2")).Deployments[0].ID
	s.failedID = sync(strings.Repeat("3", 40), "export const workflowSettings = {id: \"claims\", trigger: \"user:tokens_generation\"};\nexport default function (\n").Sync.ID
	return s
}

// flowgate runs the CLI against the service.
func (s *service) flowgate(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	full := append([]string{args[0], "--server", s.url, "--token", s.token}, args[1:]...)
	code := cli(full, &out, &errb)
	return code, out.String(), errb.String()
}

func (s *service) live(t *testing.T) string {
	t.Helper()
	wf, err := s.app.Deploy().Workflow(context.Background(), "production", "claims")
	if err != nil {
		t.Fatal(err)
	}
	return wf.LiveDeploymentID
}

func TestManageCommands(t *testing.T) {
	t.Parallel()
	s := startService(t)
	expect := func(code int, out, errs string, wantCode int, wants ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, wantCode, out, errs)
		}
		for _, w := range wants {
			if !strings.Contains(out+errs, w) {
				t.Fatalf("output lacks %q\nstdout: %s\nstderr: %s", w, out, errs)
			}
		}
	}

	code, out, errs := s.flowgate(t, "deployments")
	expect(code, out, errs, 0, "WORKFLOW", "claims", "user:tokens_generation", s.v2)
	code, out, errs = s.flowgate(t, "deployments", "claims")
	expect(code, out, errs, 0, "DEPLOYMENT", s.v1, s.v2, "Live", "Deployed", "Failed")
	code, out, errs = s.flowgate(t, "deployments", "--format", "json", "claims")
	var deps struct {
		Deployments []struct{ ID, Status string }
	}
	if json.Unmarshal([]byte(out), &deps) != nil || len(deps.Deployments) != 3 {
		t.Fatalf("--format json: %d %s %s", code, out, errs)
	}

	code, out, errs = s.flowgate(t, "make-live", "claims", s.v1)
	expect(code, out, errs, 0, s.v1+" of claims is Live")
	if s.live(t) != s.v1 {
		t.Fatalf("live %s after make-live", s.live(t))
	}
	s.flowgate(t, "make-live", "claims", s.v2)
	code, out, errs = s.flowgate(t, "rollback", "claims")
	expect(code, out, errs, 0, s.v1)
	if s.live(t) != s.v1 {
		t.Fatalf("live %s after rollback", s.live(t))
	}
	flips, _ := s.app.Deploy().Flips(context.Background(), "production", "claims", 1)
	if len(flips) != 1 || flips[0].Action != "rollback" || flips[0].Actor != "admin-api" {
		t.Fatalf("newest flip %+v", flips)
	}
	code, out, errs = s.flowgate(t, "make-live", "claims", "dep_nope")
	expect(code, out, errs, 1, "not found")

	// Variables: a secret is write-only, in tables and in JSON.
	code, out, errs = s.flowgate(t, "vars", "set", "API_KEY", "sk_cli_secret", "--secret")
	expect(code, out, errs, 0, "secret API_KEY set")
	s.flowgate(t, "vars", "set", "PLAN", "gold")
	code, out, errs = s.flowgate(t, "vars")
	expect(code, out, errs, 0, "API_KEY", "(secret)", "PLAN", "gold")
	_, jsonOut, _ := s.flowgate(t, "vars", "--format", "json")
	if strings.Contains(out+jsonOut, "sk_cli_secret") || !json.Valid([]byte(jsonOut)) {
		t.Fatalf("vars showed the secret or bad JSON:\n%s\n%s", out, jsonOut)
	}
	code, out, errs = s.flowgate(t, "vars", "delete", "PLAN")
	expect(code, out, errs, 0, "deleted")
	code, out, errs = s.flowgate(t, "vars", "set", "bad name", "x")
	expect(code, out, errs, 1, "only letters")

	// Keys: create shows the key once, then the list has it without it.
	code, out, errs = s.flowgate(t, "keys", "claims", "create")
	expect(code, out, errs, 0, "Shown once")
	code, out, errs = s.flowgate(t, "keys", "claims")
	expect(code, out, errs, 0, "KEY", "true")

	code, out, errs = s.flowgate(t, "preview", s.v2)
	expect(code, out, errs, 0, "password", "X-Flowgate-Preview-Password", "?deploy_id="+s.v2)

	code, out, errs = s.flowgate(t, "sync")
	expect(code, out, errs, 0, "SYNC", s.failedID, "failed", "succeeded")
	code, out, errs = s.flowgate(t, "sync", s.failedID)
	expect(code, out, errs, 0, "kindeSrc/environment/workflows/claimsWorkflow.ts:3:1: error:", "[build-error]")
	code, out, errs = s.flowgate(t, "logs", "--kind", "build")
	expect(code, out, errs, 0, "claimsWorkflow.ts:3:1")

	code, out, errs = s.flowgate(t, "deactivate", "claims")
	expect(code, out, errs, 0, "deactivated")
	if s.live(t) != "" {
		t.Fatal("still live after deactivate")
	}
}

func TestManageCommandErrors(t *testing.T) {
	s := startService(t)
	var out, errb strings.Builder
	if code := cli([]string{"deployments", "--server", s.url, "--token", "wrong"}, &out, &errb); code != exitProblems ||
		!strings.Contains(errb.String(), "admin token") {
		t.Fatalf("wrong token: %d %s", code, errb.String())
	}
	t.Setenv("FLOWGATE_ADMIN_TOKEN", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no token":         {[]string{"deployments", "--server", s.url}, exitUsage, "no admin token"},
		"not a URL":        {[]string{"deployments", "--server", "ftp://x", "--token", "t"}, exitUsage, "not an http(s) URL"},
		"bad format":       {[]string{"vars", "--token", "t", "--format", "xml"}, exitUsage, "unknown --format"},
		"bad env":          {[]string{"vars", "--server", s.url, "--token", "t", "--env", "a/b"}, exitUsage, "--env: environment name"},
		"dot-segment env":  {[]string{"vars", "--server", s.url, "--token", "t", "--env", ".."}, exitUsage, "--env: environment name"},
		"too many args":    {[]string{"rollback", "--server", s.url, "--token", "t", "a", "b"}, exitUsage, "expected 1 argument"},
		"nobody listening": {[]string{"deployments", "--server", "http://127.0.0.1:1", "--token", "t"}, exitUsage, "no answer"},
		"help":             {[]string{"make-live", "--help"}, exitOK, "Usage: flowgate make-live"},
	} {
		var out, errb strings.Builder
		code := cli(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("%s: exit %d, %q", name, code, out.String()+errb.String())
		}
	}
	// The token from the config file.
	cfgDir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "flowgate")
	os.MkdirAll(cfgDir, 0o700)
	b, _ := json.Marshal(map[string]string{"server": s.url, "token": s.token})
	os.WriteFile(filepath.Join(cfgDir, "config.json"), b, 0o600)
	out.Reset()
	if code := cli([]string{"deployments"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "claims") {
		t.Fatalf("config file: %d %s %s", code, out.String(), errb.String())
	}
}

// lineWriter hands each write to a channel so a test can wait for output.
type lineWriter struct {
	mu  sync.Mutex
	buf strings.Builder
	ch  chan struct{}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.ch <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestLogsFollow: new invocations appear in `flowgate logs --follow`.
func TestLogsFollow(t *testing.T) {
	t.Parallel()
	s := startService(t)
	out := &lineWriter{ch: make(chan struct{}, 1)}
	r, _, code, ok := parseRemote("logs", []string{"--server", s.url, "--token", s.token}, out, out)
	if !ok {
		t.Fatalf("parse: %d", code)
	}
	r.pollEvery = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- r.followLogs(ctx, url.Values{"kind": {"runtime"}}) }()
	for i := range 2 {
		req, _ := http.NewRequest("POST", s.url+"/api/v1/environments/production/triggers/user:tokens_generation",
			strings.NewReader(`{"context":{"user":{"id":"kp_`+string(rune('a'+i))+`"},"workflow":{"trigger":"user:tokens_generation"}}}`))
		req.Header.Set("Authorization", "Bearer runtime-token-for-tests")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("trigger: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	// Wait for the output, write by write; the test's deadline bounds it.
	for !strings.Contains(out.String(), "claims v2 for kp_b") {
		<-out.ch
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("follow ended with %d", code)
	}
	text := out.String()
	if strings.Count(text, "claims v2 for kp_a") != 1 || strings.Index(text, "kp_a") > strings.Index(text, "kp_b") {
		t.Fatalf("followed lines repeated or out of order:\n%s", text)
	}
	if !strings.Contains(text, "invocation succeeded") {
		t.Fatalf("no outcome line:\n%s", text)
	}
}
