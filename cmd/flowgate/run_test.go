package main

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const runRepo = "testdata/runrepo"

// TestRunGolden runs workflows of the fixture repository and compares the
// whole transcript (exit code, Result on stdout, stderr) with a golden file.
func TestRunGolden(t *testing.T) {
	t.Parallel()
	ev := func(name string) string { return filepath.Join(runRepo, "events", name) }
	cases := []struct {
		name string
		args []string
	}{
		{"claims-env-secret-redacted", []string{"--trigger", "user:tokens_generation", "--event", ev("tokens.json"), "--env", filepath.Join(runRepo, "env.json"), runRepo}},
		{"claims-without-env", []string{"--workflow", "tokens", "--event", ev("tokens.json"), runRepo}},
		{"denied-is-success", []string{"--trigger", "user:post_authentication", "--event", ev("postauth-denied.json"), runRepo}},
		{"allowed", []string{"--trigger", "user:post_authentication", "--event", ev("postauth-allowed.json"), runRepo}},
		{"password-redacted", []string{"--trigger", "user:new_password_provided", "--event", ev("newpassword.json"), runRepo}},
		{"thrown-error-mapped", []string{"--workflow", "m2m", "--event", ev("m2m.json"), runRepo}},
		{"skipped", []string{"--trigger", "user:pre_registration", "--event", ev("tokens.json"), runRepo}},
		{"invalid-workflow", []string{"--trigger", "user:post_authentication", "--event", ev("postauth-allowed.json"), "testdata/runbad"}},
		{"invalid-repo-no-match", []string{"--trigger", "user:plan_selection", "--event", ev("tokens.json"), "testdata/runbad"}},
		{"valid-workflow-in-broken-repo", []string{"--workflow", "preMfa", "--event", ev("tokens.json"), "testdata/runbad"}},
		{"fetch-blocked-without-allow-host", []string{"--trigger", "user:pre_mfa", "--event", ev("premfa-blocked.json"), runRepo}},
		{"secure-fetch-without-key", []string{"--trigger", "user:plan_selection", "--event", ev("plan-nokey.json"), runRepo}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"run"}, c.args...)...)
			goldenCheck(t, filepath.Join("run", c.name+".golden"), stable(transcript(stdout, stderr, code)))
		})
	}
}

// TestRunUsage: every usage problem exits 2 with a message naming it, and
// nothing is printed on stdout.
func TestRunUsage(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(runRepo, "events", "tokens.json")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"neither", []string{"--event", ev, runRepo}, "choose the workflow with --trigger T or --workflow ID"},
		{"both", []string{"--trigger", "user:pre_mfa", "--workflow", "x", "--event", ev, runRepo}, "not both"},
		{"no event", []string{"--trigger", "user:pre_mfa", runRepo}, "--event FILE is required"},
		{"unknown trigger", []string{"--trigger", "user:token_generation", "--event", ev, runRepo}, `unknown trigger "user:token_generation"`},
		{"missing event file", []string{"--trigger", "user:pre_mfa", "--event", "testdata/nope.json", runRepo}, "read event: open testdata/nope.json: no such file"},
		{"bad event JSON", []string{"--trigger", "user:pre_mfa", "--event", filepath.Join(runRepo, "events", "bad.json"), runRepo}, "bad.json:2:22: invalid JSON: invalid character '}'"},
		{"event not an object", []string{"--trigger", "user:pre_mfa", "--event", filepath.Join(runRepo, "events", "array.json"), runRepo}, "the event must be a JSON object"},
		{"bad env file", []string{"--trigger", "user:pre_mfa", "--event", ev, "--env", filepath.Join(runRepo, "env-bad.json"), runRepo}, `variable "PLAN": expected {"value": "…", "isSecret": true|false}`},
		{"missing env file", []string{"--trigger", "user:pre_mfa", "--event", ev, "--env", "testdata/nope.json", runRepo}, "read env file"},
		{"key not base64", []string{"--trigger", "user:pre_mfa", "--event", ev, "--encryption-key", "not base64!", runRepo}, "the encryption key is not Base64"},
		{"key too short", []string{"--trigger", "user:pre_mfa", "--event", ev, "--encryption-key", base64.StdEncoding.EncodeToString(make([]byte, 16)), runRepo}, "the encryption key is 16 bytes; an AES-256 key is 32 bytes"},
		{"bad duration", []string{"--trigger", "user:pre_mfa", "--event", ev, "--timeout", "5", runRepo}, `--timeout "5" is not a positive duration`},
		{"negative duration", []string{"--trigger", "user:pre_mfa", "--event", ev, "--timeout", "-1s", runRepo}, "not a positive duration"},
		{"allow-host URL", []string{"--trigger", "user:pre_mfa", "--event", ev, "--allow-host", "http://127.0.0.1:8080", runRepo}, "not a URL"},
		{"unknown flag", []string{"--trigger", "user:pre_mfa", "--event", ev, "--nope", runRepo}, "flag provided but not defined: -nope"},
		{"two dirs", []string{"--trigger", "user:pre_mfa", "--event", ev, runRepo, runRepo}, "too many arguments"},
		{"unknown workflow id", []string{"--workflow", "nope", "--event", ev, runRepo}, `no workflow has id "nope" (the workflows are: "m2m", "newPassword", "plan", "postAuth", "preMfa", "tokens")`},
		{"missing dir", []string{"--trigger", "user:pre_mfa", "--event", ev, "testdata/no-such-repo"}, "read repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"run"}, c.args...)...)
			if code != exitUsage {
				t.Errorf("exit = %d, want 2; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr does not contain %q:\n%s", c.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	t.Parallel()
	stdout, _, code := cliRun(t, "run", "--help")
	if code != exitOK || !strings.HasPrefix(stdout, "Usage: flowgate run") {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

// writeEvent writes an event whose context carries a server URL.
func writeEvent(t *testing.T, ev map[string]any) string {
	t.Helper()
	data, _ := json.Marshal(ev)
	name := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestRunAllowHost: kinde.fetch reaches a loopback server only when
// --allow-host names it, and the response drives the Result.
func TestRunAllowHost(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/policy" || r.URL.Query().Get("user") != "kp_7" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{"mfa": "required"}`)
	}))
	defer srv.Close()
	event := writeEvent(t, map[string]any{"context": map[string]any{"policyUrl": srv.URL, "user": map[string]any{"id": "kp_7"}}})
	host := strings.TrimPrefix(srv.URL, "http://")

	stdout, stderr, code := cliRun(t, "run", "--trigger", "user:pre_mfa", "--event", event, runRepo)
	if code != exitProblems || !strings.Contains(stdout, "is blocked") {
		t.Errorf("without --allow-host: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = cliRun(t, "run", "--trigger", "user:pre_mfa", "--allow-host", "example.com", "--allow-host", host, "--event", event, runRepo)
	if code != exitOK {
		t.Fatalf("with --allow-host: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var res struct {
		Status string
		MFA    struct{ EnforcementPolicy string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "succeeded" || res.MFA.EnforcementPolicy != "required" {
		t.Errorf("result = %+v", res)
	}
}

// TestRunEncryptionKey: --encryption-key is the key kinde.secureFetch seals
// the body with; the server opens nonce‖tag‖ciphertext with it.
func TestRunEncryptionKey(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil || len(raw) < 28 {
			http.Error(w, "bad body", 400)
			return
		}
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		nonce, tag, ct := raw[:12], raw[12:28], raw[28:]
		plain, err := gcm.Open(nil, nonce, append(append([]byte{}, ct...), tag...), nil)
		if err != nil {
			http.Error(w, "cannot decrypt", 400)
			return
		}
		got = string(plain)
		io.WriteString(w, `{"allowed": false}`)
	}))
	defer srv.Close()
	event := writeEvent(t, map[string]any{"context": map[string]any{
		"auditUrl": srv.URL, "billing": map[string]any{"requestedPlanCode": "enterprise"}}})
	stdout, stderr, code := cliRun(t, "run", "--trigger", "user:plan_selection", "--event", event,
		"--encryption-key", base64.StdEncoding.EncodeToString(key), "--allow-host", strings.TrimPrefix(srv.URL, "http://"), runRepo)
	if code != exitOK {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if got != `{"plan":"enterprise"}` {
		t.Errorf("server decrypted %q", got)
	}
	if !strings.Contains(stdout, `"message": "That plan is not available"`) {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// TestRunTimeout: --timeout bounds the run's wall time.
func TestRunTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	event := writeEvent(t, map[string]any{"context": map[string]any{"policyUrl": srv.URL, "user": map[string]any{"id": "kp_7"}}})
	stdout, _, code := cliRun(t, "run", "--trigger", "user:pre_mfa", "--timeout", "200ms",
		"--allow-host", strings.TrimPrefix(srv.URL, "http://"), "--event", event, runRepo)
	if code != exitProblems || !strings.Contains(stdout, `"status": "failed"`) {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
}
