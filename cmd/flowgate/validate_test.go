package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/testenv"
)

// updating reports whether -update was given: golden files are rewritten.
// The flag is registered once for the package (golden_test.go); looking it
// up keeps these tests independent of where it is declared.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// testdata is absolute because the tests change directory.
var testdataAbs, _ = filepath.Abs("testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func syncGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdataAbs, name)
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update after checking):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// runCLI runs the CLI in dir and returns the exit code, stdout and stderr.
func cliIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var stdout, stderr bytes.Buffer
	code := cli(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestValidateGolden checks the three formats on a repository with errors
// and warnings: what a person reads in a terminal and in GitHub.
func TestValidateGolden(t *testing.T) {
	for _, format := range []string{"text", "github", "json"} {
		t.Run(format, func(t *testing.T) {
			repo := testenv.CopyRepo(t, filepath.Join("testdata", "validate-repo"), false)
			code, stdout, stderr := cliIn(t, repo, "validate", "--format", format)
			if code != exitProblems {
				t.Errorf("exit %d, want 1; stderr: %s", code, stderr)
			}
			syncGolden(t, "validate-"+format+".golden", stdout)
			syncGolden(t, "validate-"+format+".stderr.golden", stderr)
		})
	}
}

// TestValidateDirPrefix: with DIR, text paths are given from the current
// directory (so editors open them) while JSON stays repository-relative.
func TestValidateDirPrefix(t *testing.T) {
	parent := t.TempDir()
	repo := testenv.CopyRepo(t, filepath.Join("testdata", "validate-repo"), false)
	if err := os.Rename(repo, filepath.Join(parent, "repo")); err != nil {
		t.Fatal(err)
	}
	_, text, _ := cliIn(t, parent, "validate", "repo")
	if !strings.HasPrefix(text, "repo/kindeSrc/environment/workflows/") {
		t.Errorf("text paths not prefixed with DIR:\n%s", text)
	}
	_, js, _ := cliIn(t, "", "validate", "--format=json", "repo")
	if !strings.Contains(js, `"file": "kindeSrc/environment/workflows/`) || strings.Contains(js, `"file": "repo/`) {
		t.Errorf("json paths must be repository-relative:\n%s", js)
	}
}

func TestValidateExitCodes(t *testing.T) {
	valid := testenv.CopyRepo(t, filepath.Join("..", "..", "internal", "project", "testdata", "repos", "valid-10"), true)
	noKindeJSON := t.TempDir()
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"valid", []string{"validate", valid}, exitOK, "", "10 workflows checked, no problems"},
		{"valid json", []string{"validate", "--format", "json", valid}, exitOK, `"id": "enrichTokens"`, ""},
		{"missing kinde.json is a diagnostic", []string{"validate", noKindeJSON}, exitProblems, "[missing-kinde-json]", ""},
		{"no such dir", []string{"validate", filepath.Join(noKindeJSON, "nope")}, exitUsage, "", "no such file or directory"},
		{"file as dir", []string{"validate", filepath.Join(valid, "kinde.json")}, exitUsage, "", "is not a directory"},
		{"bad flag", []string{"validate", "--fromat", "json"}, exitUsage, "", "flag provided but not defined: -fromat"},
		{"bad format", []string{"validate", "--format", "sarif", valid}, exitUsage, "", `unknown --format "sarif"`},
		{"two dirs", []string{"validate", valid, valid}, exitUsage, "", "too many arguments"},
		{"help", []string{"validate", "--help"}, exitOK, "Usage: flowgate validate", ""},
		{"flags after dir", []string{"validate", valid, "--format", "json"}, exitUsage, "", "too many arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := cliIn(t, "", c.args...)
			if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
			if c.code == exitOK && c.name == "help" && stderr != "" {
				t.Errorf("help wrote to stderr: %s", stderr)
			}
		})
	}
}
