package main

import (
	"encoding/json"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
)

// TestBenchJSON: the JSON report has every field, for the pooled runtime
// and, with --baseline fresh, for the fresh one. Values are not checked
// against any timing: only that they were measured.
func TestBenchJSON(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(runRepo, "events", "tokens.json")
	stdout, stderr, code := cliRun(t, "bench", "--trigger", "user:tokens_generation", "--event", ev, "--isolation", "inprocess",
		"--n", "30", "--warmup", "5", "--concurrency", "2", "--baseline", "fresh", "--format", "json", runRepo)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	fields := []string{"meanUs", "p50Us", "p99Us", "throughputPerSec", "cpuUsPerInvocation", "allocsPerInvocation", "bytesPerInvocation"}
	check := func(name string, m map[string]any, mode string) {
		if m["mode"] != mode || m["isolation"] != "inprocess" || m["n"] != float64(30) || m["concurrency"] != float64(2) {
			t.Errorf("%s: mode/n/concurrency = %v/%v/%v", name, m["mode"], m["n"], m["concurrency"])
		}
		for _, f := range fields {
			if v, ok := m[f].(float64); !ok || v <= 0 {
				t.Errorf("%s: %s = %v, want a measured number", name, f, m[f])
			}
		}
	}
	check("pooled", rep, "pooled")
	base, _ := rep["baseline"].(map[string]any)
	check("baseline", base, "fresh")
	if rep["workflowId"] != "tokens" || rep["trigger"] != "user:tokens_generation" {
		t.Errorf("workflow = %v %v", rep["workflowId"], rep["trigger"])
	}
	if r, ok := rep["cpuRatio"].(float64); !ok || r <= 0 {
		t.Errorf("cpuRatio = %v", rep["cpuRatio"])
	}
}

// TestBenchProcess: with the default isolation every measured invocation
// goes through a worker process; latency and throughput are measured, and
// CPU and allocations (this process's only) are not negative.
func TestBenchProcess(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(runRepo, "events", "tokens.json")
	stdout, stderr, code := cliRun(t, "bench", "--workflow", "tokens", "--event", ev, "--n", "20", "--warmup", "2",
		"--baseline", "fresh", "--format", "json", runRepo)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if rep["isolation"] != "process" || rep["mode"] != "pooled" {
		t.Errorf("isolation %v, mode %v", rep["isolation"], rep["mode"])
	}
	for _, f := range []string{"meanUs", "p50Us", "p99Us", "throughputPerSec"} {
		if v, ok := rep[f].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a measured number", f, rep[f])
		}
	}
	for _, f := range []string{"cpuUsPerInvocation", "allocsPerInvocation", "bytesPerInvocation"} {
		if v, ok := rep[f].(float64); !ok || v < 0 {
			t.Errorf("%s = %v", f, rep[f])
		}
	}
	// The fresh baseline runs here, the pooled runs in workers; their CPU
	// compares because the workers' is counted too (read from /proc on Linux).
	if base, _ := rep["baseline"].(map[string]any); base["isolation"] != "inprocess" || base["mode"] != "fresh" {
		t.Errorf("baseline = %v", rep["baseline"])
	}
	if r, ok := rep["cpuRatio"].(float64); goruntime.GOOS == "linux" && (!ok || r <= 0) {
		t.Errorf("cpuRatio = %v, want the fresh/supervised ratio", rep["cpuRatio"])
	}
}

func TestBenchText(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(runRepo, "events", "tokens.json")
	stdout, stderr, code := cliRun(t, "bench", "--workflow", "tokens", "--event", ev, "--n", "10", "--warmup", "0", runRepo)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"workflow tokens (user:tokens_generation): 10 invocations, concurrency 1", "CPU µs/inv", "pooled"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "fresh") {
		t.Errorf("no baseline was asked for:\n%s", stdout)
	}
}

func TestBenchErrors(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(runRepo, "events", "tokens.json")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"n zero", []string{"--trigger", "user:tokens_generation", "--event", ev, "--n", "0", runRepo}, exitUsage, "--n must be at least 1"},
		{"concurrency zero", []string{"--trigger", "user:tokens_generation", "--event", ev, "--concurrency", "0", runRepo}, exitUsage, "--concurrency must be at least 1"},
		{"bad baseline", []string{"--trigger", "user:tokens_generation", "--event", ev, "--baseline", "node", runRepo}, exitUsage, `unknown --baseline "node"`},
		{"bad format", []string{"--trigger", "user:tokens_generation", "--event", ev, "--format", "xml", runRepo}, exitUsage, `unknown --format "xml"`},
		{"no event", []string{"--trigger", "user:tokens_generation", runRepo}, exitUsage, "--event FILE is required"},
		{"n not a number", []string{"--trigger", "user:tokens_generation", "--event", ev, "--n", "many", runRepo}, exitUsage, `invalid value "many" for flag -n`},
		{"workflow fails", []string{"--workflow", "m2m", "--event", filepath.Join(runRepo, "events", "m2m.json"), runRepo}, exitProblems, "the workflow failed on this event, so there is nothing to measure: Error: scope read admin is not allowed"},
		{"no workflow for trigger", []string{"--trigger", "user:pre_registration", "--event", ev, runRepo}, exitProblems, `no workflow has trigger "user:pre_registration"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"bench"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Errorf("exit %d (want %d), stdout %q, stderr:\n%s", code, c.code, stdout, stderr)
			}
		})
	}
}
