package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// plan is a claims workflow that reads the user's plan from a billing
// API (answered from the recordings) and tags the token with version.
func plan(version, extra string) string {
	return `export const workflowSettings = { id: "claims", trigger: "user:tokens_generation", bindings: { "kinde.accessToken": {}, "kinde.fetch": {} } };
export default async function handle(event: any) {
  const u = event.context.user.id;
  const r = await kinde.fetch("https://billing.example.com/plan?user=" + u, { method: "GET" });
  kinde.accessToken.setCustomClaim("plan", r.json.plan);
  kinde.accessToken.setCustomClaim("version", "` + version + `");
  ` + extra + `
  console.log("not behaviour: " + Date.now());
}
declare const kinde: any;
`
}

var replayDurations = regexp.MustCompile(`baseline [0-9.]+/[0-9.]+ ms, candidate [0-9.]+/[0-9.]+ ms|baseline [0-9.]+ / [0-9.]+ ms, candidate [0-9.]+ / [0-9.]+ ms`)

// stableReplay hides what varies from run to run: durations, temp paths.
func stableReplay(s string, replace ...string) string {
	return stable(replayDurations.ReplaceAllString(s, "baseline N ms, candidate N ms"), replace...)
}

// TestReplayGolden: the behaviour diff of a local project against a
// build folder, as `flowgate test --replay` prints it.
func TestReplayGolden(t *testing.T) {
	t.Parallel()
	recordings := filepath.Join("testdata", "replay", "recordings")
	baseRepo := claimsRepo(t, plan("v1", ""))
	dist := filepath.Join(t.TempDir(), "dist")
	if _, stderr, code := cliRun(t, "build", "--isolation", "inprocess", "--out", dist, baseRepo); code != exitOK {
		t.Fatalf("build: %d %s", code, stderr)
	}
	same := claimsRepo(t, plan("v1", ""))
	changed := claimsRepo(t, plan("v2", `if (r.json.plan === "pro") kinde.accessToken.setCustomClaim("tier", 2);`))
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no-change", []string{"--against", dist, same}, exitOK},
		{"changed", []string{"--against", dist, changed}, exitProblems},
		{"changed-manifest", []string{"--against", filepath.Join(dist, "manifest.json"), "--max-diffs", "1", changed}, exitProblems},
		{"changed-markdown", []string{"--against", filepath.Join(dist, "claims.js"), "--format", "markdown", changed}, exitProblems},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"test", "--isolation", "inprocess", "--replay", recordings}, c.args...)
			stdout, stderr, code := cliRun(t, args...)
			if code != c.code {
				t.Errorf("exit = %d, want %d\n%s", code, c.code, stderr)
			}
			goldenCheck(t, filepath.Join("replay", c.name+".golden"), stableReplay(transcript(stdout, stderr, code), dist, "DIST"))
		})
	}
}

// TestReplayWorkerProcesses: the default isolation (supervised workers)
// gives the same diff.
func TestReplayWorkerProcesses(t *testing.T) {
	t.Parallel()
	baseRepo := claimsRepo(t, plan("v1", ""))
	dist := filepath.Join(t.TempDir(), "dist")
	if _, stderr, code := cliRun(t, "build", "--isolation", "inprocess", "--out", dist, baseRepo); code != exitOK {
		t.Fatalf("build: %d %s", code, stderr)
	}
	stdout, stderr, code := cliRun(t, "test", "--replay", filepath.Join("testdata", "replay", "recordings"), "--against", dist,
		claimsRepo(t, plan("v2", "")))
	if code != exitProblems || !strings.Contains(stdout, `ev_0001  accessToken.version  "v1" → "v2"`) {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestReplayUsage(t *testing.T) {
	rec := filepath.Join("testdata", "replay", "recordings")
	repo := claimsRepo(t, plan("v1", ""))
	empty := t.TempDir()
	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, "x.jsonl"), "{\"id\":1}\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no against", []string{"--replay", rec, repo}, "--replay needs --against"},
		{"against alone", []string{"--against", "live", repo}, "--against only goes with --replay"},
		{"run with replay", []string{"--replay", rec, "--against", "live", "--run", "x", repo}, "--run selects test cases"},
		{"bad format", []string{"--replay", rec, "--against", "live", "--format", "xml", repo}, `unknown --format "xml"`},
		{"negative diffs", []string{"--replay", rec, "--against", "live", "--max-diffs", "-1", repo}, "--max-diffs"},
		{"no recordings", []string{"--replay", empty, "--against", "live", repo}, "no recorded calls"},
		{"missing recordings", []string{"--replay", filepath.Join(empty, "nope"), "--against", "live", repo}, "no such file"},
		{"malformed recording", []string{"--replay", bad, "--against", "live", repo}, "x.jsonl:1: not a recorded call"},
		{"missing build", []string{"--replay", rec, "--against", "./no/such/dist", repo}, "no such file or folder"},
		{"not a build", []string{"--replay", rec, "--against", empty, repo}, "read the build's manifest"},
		{"no token", []string{"--replay", rec, "--against", "live", "--server", "http://127.0.0.1:1", repo}, "no admin token"},
		{"unreachable server", []string{"--replay", rec, "--against", "live", "--server", "http://127.0.0.1:1", "--token", "t", repo}, "connection refused"},
	}
	t.Setenv("FLOWGATE_ADMIN_TOKEN", "")
	t.Setenv("FLOWGATE_SERVER", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"test", "--isolation", "inprocess"}, c.args...)...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
			}
		})
	}
}

// TestReplayAgainstDeployments: the baseline downloaded from a running
// service, its live deployments or named ones.
func TestReplayAgainstDeployments(t *testing.T) {
	t.Parallel()
	s := startService(t) // claims v1 and v2 deployed, v2 live
	rec := filepath.Join("testdata", "replay", "recordings")
	run := func(against string, repo string) (string, string, int) {
		return cliRun(t, "test", "--isolation", "inprocess", "--server", s.url, "--token", s.token, "--replay", rec, "--against", against, repo)
	}
	// The service's claims workflow sets only "version"; the candidate
	// below does the same.
	candidate := claimsRepo(t, claims("v2"))
	if stdout, stderr, code := run("live", candidate); code != exitOK || !strings.Contains(stdout, "no behaviour change in 4 recorded events") {
		t.Errorf("against live: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code := run(s.v1, candidate)
	if code != exitProblems || !strings.Contains(stdout, `accessToken.version  "v1" → "v2"`) {
		t.Errorf("against %s: exit %d\n%s\n%s", s.v1, code, stdout, stderr)
	}
	if _, stderr, code := run("dep_nope", candidate); code != exitUsage || !strings.Contains(stderr, "deployment dep_nope") {
		t.Errorf("unknown deployment: exit %d\n%s", code, stderr)
	}
	// A deployment is only found in its own environment.
	if _, stderr, code := cliRun(t, "test", "--isolation", "inprocess", "--server", s.url, "--token", s.token, "--environment", "staging",
		"--replay", rec, "--against", s.v1, candidate); code != exitUsage || !strings.Contains(stderr, "404") {
		t.Errorf("other environment: exit %d\n%s", code, stderr)
	}
	// Ids are path-escaped: no way to another endpoint.
	if _, stderr, code := run("..%2F..?x=#", candidate); code != exitUsage || !strings.Contains(stderr, "404") {
		t.Errorf("traversal: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := cliRun(t, "test", "--isolation", "inprocess", "--server", s.url, "--token", "wrong", "--replay", rec, "--against", "live", candidate); code != exitUsage || !strings.Contains(stderr, "401") {
		t.Errorf("wrong token: exit %d\n%s", code, stderr)
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
