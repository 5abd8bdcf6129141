package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// update rewrites the golden files: go test ./cmd/flowgate -update
var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// cliRun runs the CLI in-process and returns stdout, stderr and the exit code.
func cliRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli(args, &out, &errb)
	return out.String(), errb.String(), code
}

var durationRe = regexp.MustCompile(`"durationMs": [0-9.e+-]+`)

// stable replaces what changes from run to run (timings, temp paths).
func stable(s string, replace ...string) string {
	s = durationRe.ReplaceAllString(s, `"durationMs": 0`)
	for i := 0; i+1 < len(replace); i += 2 {
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	return s
}

// goldenCheck compares got with testdata/<name>, or rewrites it with -update.
func goldenCheck(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// transcript is a command's outcome as a golden file shows it.
func transcript(stdout, stderr string, code int) string {
	return fmt.Sprintf("exit: %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout, stderr)
}
