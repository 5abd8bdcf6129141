package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const crashRepo = "testdata/crashrepo"

// noGoDump fails when output shows a Go runtime dump instead of a message.
func noGoDump(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		if strings.Contains(o, "goroutine ") || strings.Contains(o, "fatal error:") || strings.Contains(o, "worker.go:") {
			t.Errorf("output shows a Go dump:\n%s", o)
		}
	}
}

// TestCrashedWorkerRun: a worker that dies mid-run is a failed Result with
// kind sandbox-crashed (exit 1), never a dump; the inprocess mode is not
// asked to survive it.
func TestCrashedWorkerRun(t *testing.T) {
	t.Parallel()
	env := filepath.Join(t.TempDir(), "env.json")
	if err := os.WriteFile(env, []byte(`{"PLAN": {"value": "`+crashMarker+`", "isSecret": false}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := cliRun(t, "run", "--trigger", "user:tokens_generation", "--event",
		filepath.Join(runRepo, "events", "tokens.json"), "--env", env, runRepo)
	if code != exitProblems {
		t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var res struct {
		Status string
		Error  struct{ Kind, Message string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not a Result: %v\n%s", err, stdout)
	}
	if res.Status != "failed" || res.Error.Kind != "sandbox-crashed" || res.Error.Message == "" {
		t.Errorf("result %+v", res)
	}
	noGoDump(t, stdout, stderr)
}

// TestCrashedWorkerValidate: a worker that dies reading a workflow's
// settings is a located error on that file for validate and build; the
// other workflows are still checked.
func TestCrashedWorkerValidate(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"validate", "build"} {
		t.Run(cmd, func(t *testing.T) {
			args := []string{cmd, crashRepo}
			if cmd == "build" {
				args = []string{cmd, "--out", filepath.Join(t.TempDir(), "out"), crashRepo}
			}
			stdout, stderr, code := cliRun(t, args...)
			if code != exitProblems {
				t.Errorf("exit %d, want 1", code)
			}
			report := stdout + stderr
			want := filepath.ToSlash(filepath.Join(crashRepo, "kindeSrc/environment/workflows/crashWorkerNowWorkflow.ts")) + ":"
			if !strings.Contains(report, want) || !strings.Contains(report, ": error: ") {
				t.Errorf("no located error for the crashing workflow:\n%s", report)
			}
			if strings.Contains(report, "tokensWorkflow.ts") {
				t.Errorf("the healthy workflow has a diagnostic:\n%s", report)
			}
			noGoDump(t, stdout, stderr)
		})
	}
}

// TestCrashedWorkerTest: a case whose worker dies fails alone; the cases
// after it run in a new worker.
func TestCrashedWorkerTest(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := cliRun(t, "test", crashRepo)
	if code != exitProblems {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"ok    testdata/crashrepo/kindeSrc/environment/workflows/tokens.test.json: runs\n",
		"FAIL  testdata/crashrepo/kindeSrc/environment/workflows/tokens.test.json: the worker dies\n",
		"ok    testdata/crashrepo/kindeSrc/environment/workflows/tokens.test.json: runs after the crash\n",
		"2 passed, 1 failed\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	noGoDump(t, stdout, stderr)
}

// TestIsolationModesAgree: the same run gives the same Result in a worker
// process and in this process.
func TestIsolationModesAgree(t *testing.T) {
	t.Parallel()
	args := []string{"run", "--trigger", "user:new_password_provided", "--event", filepath.Join(runRepo, "events", "newpassword.json")}
	var outs []string
	for _, mode := range []string{"process", "inprocess"} {
		stdout, stderr, code := cliRun(t, append(append(args, "--isolation", mode), runRepo)...)
		outs = append(outs, stable(transcript(stdout, stderr, code)))
	}
	if outs[0] != outs[1] {
		t.Errorf("process:\n%s\ninprocess:\n%s", outs[0], outs[1])
	}
	goldenCheck(t, filepath.Join("run", "password-redacted.golden"), outs[1])
}

func TestIsolationFlag(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(runRepo, "events", "tokens.json")
	for _, args := range [][]string{
		{"run", "--trigger", "user:tokens_generation", "--event", ev, "--isolation", "vm", runRepo},
		{"bench", "--trigger", "user:tokens_generation", "--event", ev, "--isolation", "vm", runRepo},
		{"test", "--isolation", "vm", "testdata/testrepo"},
		{"validate", "--isolation", "vm", runRepo},
		{"build", "--isolation", "vm", "--out", t.TempDir(), runRepo},
	} {
		stdout, stderr, code := cliRun(t, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, `unknown --isolation "vm": use process or inprocess`) {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", args, code, stdout, stderr)
		}
	}
}
