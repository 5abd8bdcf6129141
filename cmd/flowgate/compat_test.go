package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/testenv"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The Kinde-style corpus (testdata/kinde-corpus, issue 18): code written
// as public Kinde workflows are — bindings through globalThis, kinde.mfa
// declared on four triggers that lack it, typeof guards, a shared module
// imported in part, a barrel, a test helper and a spec file beside them.

// TestKindeCorpusValidate: validate deploys it (no error) and warns only
// about the four kinde.mfa declarations and the one latent bug; no
// undefined-name, not-a-workflow-file or shared-module false alarm.
func TestKindeCorpusValidate(t *testing.T) {
	repo := testenv.CopyRepo(t, filepath.Join("testdata", "kinde-corpus"), true)
	code, stdout, stderr := cliIn(t, repo, "validate")
	if code != exitOK {
		t.Errorf("exit %d, want 0 (warnings only); stderr: %s", code, stderr)
	}
	syncGolden(t, "kinde-corpus-validate.golden", stdout+"-- stderr --\n"+stderr)
}

var warningRe = regexp.MustCompile(`(?m)^(\S+):(\d+):\d+: warning: .*\[([a-z-]+)\]$`)

// TestKindeCorpusRuns runs each workflow through flowgate run, in a
// worker process (the sandbox supervisor) and in process: both give the
// same Result, the behaviour Kinde's runtime gives, and every warning
// validate printed about code names a line the corpus's runs fail at.
func TestKindeCorpusRuns(t *testing.T) {
	repo := testenv.CopyRepo(t, filepath.Join("testdata", "kinde-corpus"), true)
	ev := func(name string) string { return filepath.Join(repo, "events", name) }
	env := filepath.Join(repo, "env.json")
	cases := []struct {
		name, workflow, event string
		check                 func(t *testing.T, r *workflow.Result)
	}{
		{"password policy through globalThis.kinde", "passwordPolicy", "short-password.json", func(t *testing.T, r *workflow.Result) {
			if r.Status != workflow.StatusSucceeded || r.Widget == nil ||
				r.Widget.InvalidFormFields["p_first_password"] != "Use at least 12 characters" {
				t.Errorf("the policy was bypassed: %+v", r)
			}
			if len(r.Logs) != 1 || r.Logs[0].Message != "password checked" {
				t.Errorf("globalThis.console: logs %+v", r.Logs)
			}
		}},
		{"a long password passes", "passwordPolicy", "long-password.json", func(t *testing.T, r *workflow.Result) {
			if r.Status != workflow.StatusSucceeded || r.Widget != nil {
				t.Errorf("result %+v", r)
			}
		}},
		{"post-auth with kinde.mfa declared", "postAuth", "postauth.json", func(t *testing.T, r *workflow.Result) {
			if r.Status != workflow.StatusSucceeded || r.Auth == nil || !strings.Contains(asJSONText(r.Auth), "Sign-in from this country is not allowed") {
				t.Errorf("result %s", asJSONText(r))
			}
		}},
		{"tokens with kinde.mfa declared", "tokens", "tokens.json", func(t *testing.T, r *workflow.Result) {
			if r.Status != workflow.StatusSucceeded || r.AccessToken == nil || r.AccessToken.CustomClaims["risk"] != "high" {
				t.Errorf("result %s", asJSONText(r))
			}
		}},
		{"m2m with kinde.mfa declared", "m2m", "m2m.json", func(t *testing.T, r *workflow.Result) {
			if r.Status != workflow.StatusSucceeded || r.M2MToken == nil || r.M2MToken.CustomClaims["client"] != "app_1" {
				t.Errorf("result %s", asJSONText(r))
			}
		}},
		{"the latent bug validate warns about", "tokens", "tokens-id-claim.json", func(t *testing.T, r *workflow.Result) {
			if r.Status != workflow.StatusFailed || r.Error == nil || r.Error.Kind != workflow.KindBinding ||
				!strings.Contains(r.Error.Message, `add "kinde.idToken": {}`) {
				t.Errorf("result %s", asJSONText(r))
			}
		}},
	}
	stacks := ""
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var outs []string
			for _, mode := range []string{"process", "inprocess"} {
				stdout, stderr, _ := cliRun(t, "run", "--isolation", mode, "--workflow", c.workflow, "--event", ev(c.event), "--env", env, repo)
				var r workflow.Result
				if err := json.Unmarshal([]byte(stdout), &r); err != nil {
					t.Fatalf("%s: stdout is not a Result: %v\n%s\nstderr:\n%s", mode, err, stdout, stderr)
				}
				c.check(t, &r)
				if r.Error != nil {
					stacks += r.Error.Stack
				}
				outs = append(outs, stable(stdout))
			}
			if outs[0] != outs[1] {
				t.Errorf("process and inprocess differ:\n%s\n%s", outs[0], outs[1])
			}
		})
	}
	// Every warning about code names a line one of the runs failed at.
	_, report, _ := cliIn(t, repo, "validate")
	checked := 0
	for _, m := range warningRe.FindAllStringSubmatch(report, -1) {
		file, line, rule := m[1], m[2], m[3]
		if rule == "binding-not-allowed" {
			continue // about a declaration, which runs fine (the binding is undefined)
		}
		checked++
		if !strings.Contains(stacks, file+":"+line+":") {
			t.Errorf("warning %s at %s:%s names no line a run failed at; stacks:\n%s", rule, file, line, stacks)
		}
	}
	if checked != 1 {
		t.Errorf("%d warnings about code, want the latent bug's 1:\n%s", checked, report)
	}
}

func asJSONText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// writeRepo writes a repository of files (path → text) into a temp dir.
func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Issue 18.3: kinde.cache, declared or read undeclared, says to declare
// kinde.fetch — in validate and in the failed run alike.
func TestKindeCacheHint(t *testing.T) {
	const wf = "kindeSrc/environment/workflows/"
	body := `
export default async function () {
  const token = await kinde.cache.jwtToken({ key: "m2m" });
  kinde.accessToken.setCustomClaim("t", String(token));
}
declare const kinde: any;
`
	repo := writeRepo(t, map[string]string{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		wf + "tokensWorkflow.ts": `export const workflowSettings = {
  id: "tokens", trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, "kinde.cache": {} },
};` + body,
		"event.json": `{"context": {}}`,
	})
	code, stdout, stderr := cliIn(t, repo, "validate")
	for _, want := range []string{
		wf + `tokensWorkflow.ts:3:40: warning: "kinde.cache" is not declared by itself: kinde.cache exists when kinde.fetch or kinde.secureFetch is declared. Declare "kinde.fetch": {} instead [unknown-binding]`,
		wf + `tokensWorkflow.ts:6:23: warning: kinde.cache is used here (it exists only when kinde.fetch or kinde.secureFetch is declared), but this workflow does not declare it: add "kinde.fetch": {} to workflowSettings.bindings`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate lacks\n%s\nin:\n%s", want, stdout)
		}
	}
	if code != exitOK || strings.Contains(stdout, "always available") {
		t.Errorf("exit %d (want 0: warnings only)\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = cliIn(t, "", "run", "--workflow", "tokens", "--event", filepath.Join(repo, "event.json"), repo)
	var r workflow.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != exitProblems {
		t.Fatalf("exit %d, %v:\n%s", code, err, stdout)
	}
	if r.Error == nil || !strings.Contains(r.Error.Message, `add "kinde.fetch": {} to workflowSettings.bindings; kinde.cache exists when kinde.fetch or kinde.secureFetch is declared`) ||
		strings.Contains(r.Error.Message, `"kinde.cache": {}`) {
		t.Errorf("run: %s", asJSONText(r.Error))
	}
}

// Issue 18.5 through flowgate run (a worker process) and validate: the
// Node habits get the Kinde fix in their messages, and a URL has no Go
// names as own properties.
func TestKindeMessagesThroughRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"tier": "gold"}`)
	}))
	defer srv.Close()
	const wf = "kindeSrc/environment/workflows/"
	repo := writeRepo(t, map[string]string{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		wf + "tokensWorkflow.ts": `export const workflowSettings = {
  id: "tokens", trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, "kinde.fetch": {} },
};

export default async function (event: any) {
  if (event.context.step === "url") {
    kinde.accessToken.setCustomClaim("own", Object.getOwnPropertyNames(new URL("http://a/")).join());
  } else if (event.context.step === "json") {
    const res = await kinde.fetch(event.context.url, { method: "GET" });
    kinde.accessToken.setCustomClaim("tier", (await res.json()).tier);
  } else {
    kinde.accessToken.setCustomClaim("tier", process.env.TIER);
  }
}
declare const kinde: any;
`,
	})
	code, stdout, _ := cliIn(t, repo, "validate")
	if want := wf + `tokensWorkflow.ts:13:46: warning: process is not defined in the workflow sandbox (this line throws ReferenceError when it runs): for process.env.NAME, declare "kinde.env": {} and read kinde.env.get("NAME")?.value, or call getEnvironmentVariable("NAME") from "@kinde/infrastructure" [undefined-name]`; code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("validate: exit %d, want\n%s\nin:\n%s", code, want, stdout)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		step, want string
		ok         bool
	}{
		{"url", `"own": ""`, true},
		{"json", "a kinde.fetch response's json is the parsed body, not a method: read res.json, without ()", false},
		{"env", `workflows have no process.env: declare \"kinde.env\": {} and read kinde.env.get(\"NAME\")?.value`, false},
	} {
		event := writeEvent(t, map[string]any{"context": map[string]any{"step": c.step, "url": srv.URL + "/tier"}})
		stdout, stderr, code := cliRun(t, "run", "--workflow", "tokens", "--allow-host", host, "--event", event, repo)
		if (code == exitOK) != c.ok || !strings.Contains(stdout, c.want) {
			t.Errorf("%s: exit %d, want %q in:\n%s%s", c.step, code, c.want, stdout, stderr)
		}
	}
}

// Issue 18.6: flowgate sync again calls POST …/{env}/sync (the service's
// route, internal/app TestSyncAgainAPI) and says which commit synced.
func TestSyncAgainCLI(t *testing.T) {
	t.Parallel()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization")
		io.WriteString(w, `{"env": "staging", "commitSha": "4f2a9c1d"}`)
	}))
	defer srv.Close()
	stdout, stderr, code := cliRun(t, "sync", "again", "--server", srv.URL, "--token", "tok", "--env", "staging")
	if code != exitOK || got != "POST /api/v1/environments/staging/sync Bearer tok" ||
		stdout != "synced commit 4f2a9c1d into staging again: flowgate sync lists the result\n" {
		t.Fatalf("exit %d, request %q, stdout %q, stderr %q", code, got, stdout, stderr)
	}
}
