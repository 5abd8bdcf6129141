package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/testenv"
)

func TestBuildWritesBundlesAndManifest(t *testing.T) {
	repo := testenv.CopyRepo(t, filepath.Join("..", "..", "internal", "project", "testdata", "repos", "valid-10"), true)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := cliIn(t, "", "build", "--out", out, repo)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if want := "wrote 10 bundles and " + filepath.Join(out, "manifest.json") + "\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m bundle.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Workflows) != 10 {
		t.Fatalf("manifest has %d workflows", len(m.Workflows))
	}
	for _, w := range m.Workflows {
		code, err := os.ReadFile(filepath.Join(out, w.Bundle))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(code)
		if hex.EncodeToString(sum[:]) != w.SHA256 || w.Bundle != w.ID+".js" || w.Trigger == "" || w.Bindings == nil {
			t.Errorf("manifest entry %+v does not match its bundle", w)
		}
		if _, err := os.Stat(filepath.Join(out, w.SourceMap)); err != nil {
			t.Errorf("source map: %v", err)
		}
	}
	if w := m.Workflows[0]; w.ID != "planCancellation" || w.Trigger != "user:plan_cancellation_request" || strings.Join(w.Bindings, ",") != "kinde.plan" {
		t.Errorf("first entry %+v", w)
	}
}

func TestBuildWithErrorsWritesNothing(t *testing.T) {
	repo := testenv.CopyRepo(t, filepath.Join("testdata", "validate-repo"), false)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := cliIn(t, repo, "build", "--out", out)
	if code != exitProblems || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	syncGolden(t, "build-errors.stderr.golden", stderr)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output folder exists after a failed build: %v", err)
	}
}

func TestBuildUsage(t *testing.T) {
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"build", "--help"}, exitOK, "Usage: flowgate build [--out DIR] [--isolation process|inprocess] [DIR]", ""},
		{[]string{"build", "-h"}, exitOK, "manifest.json", ""},
		{[]string{"build", "--output", "x"}, exitUsage, "", "flag provided but not defined: -output"},
		{[]string{"build", "--out"}, exitUsage, "", "flag needs an argument: -out"},
		{[]string{"build", "--out", ""}, exitUsage, "", "--out must name a folder"},
		{[]string{"build", "a", "b"}, exitUsage, "", "too many arguments"},
		{[]string{"build", filepath.Join(t.TempDir(), "missing")}, exitUsage, "", "no such file or directory"},
	}
	for _, c := range cases {
		code, stdout, stderr := cliIn(t, "", c.args...)
		if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%v: exit %d (want %d)\nstdout: %s\nstderr: %s", c.args, code, c.code, stdout, stderr)
		}
	}
}
