package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/store"
)

// seed makes a minimal embedded store: one environment, one workflow, one
// deployment naming one artifact.
func seed(t *testing.T) (dataDir, digest string) {
	t.Helper()
	ctx := context.Background()
	dataDir = t.TempDir()
	arts, err := artifact.OpenDir(filepath.Join(dataDir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	digest, err = arts.Put(ctx, []byte("export default 1"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`INSERT INTO environments (name, created_at) VALUES ('production', 1)`,
		`INSERT INTO workflows (env, id, trigger, created_at, updated_at) VALUES ('production', 'wf', 'user:tokens_generation', 1, 1)`,
		`INSERT INTO deployments (id, env, workflow_id, status, bundle_digest, created_at) VALUES ('d1', 'production', 'wf', 'Live', '` + digest + `', 1)`,
	} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return dataDir, digest
}

func runTool(name string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := tools[name](args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestToolUsage(t *testing.T) {
	for _, name := range []string{"migrate", "backup", "restore"} {
		code, _, stderr := runTool(name, "--help")
		if code != 0 || !strings.Contains(stderr, "Usage: flowgate-app "+name) {
			t.Errorf("%s --help: %d %q", name, code, stderr)
		}
	}
	cases := []struct {
		tool string
		args []string
		want string
	}{
		{"migrate", []string{"--from-db", "x.db"}, "are all required"},
		{"migrate", []string{"--bogus"}, "flag provided but not defined"},
		{"migrate", []string{"extra"}, "unexpected argument"},
		{"backup", nil, "--to DIR is required"},
		{"backup", []string{"--to", "s3://bucket/backups"}, "must be a local directory"},
		{"restore", nil, "--from DIR is required"},
		{"restore", []string{"--from", "/nonexistent-backup", "--data-dir", "/nonexistent-data-dir/x"}, "not a Flowgate backup"},
	}
	for _, c := range cases {
		code, _, stderr := runTool(c.tool, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s %v: code %d, stderr %q; want it to say %q", c.tool, c.args, code, stderr, c.want)
		}
	}
}

// TestToolsEndToEnd: dry run, migrate, re-run, backup and restore through
// the command line, as an operator types them.
func TestToolsEndToEnd(t *testing.T) {
	dataDir, digest := seed(t)
	to := t.TempDir()
	args := []string{"--from-db", filepath.Join(dataDir, "flowgate.db"), "--from-artifacts", filepath.Join(dataDir, "artifacts"),
		"--to-db", filepath.Join(to, "flowgate.db"), "--to-artifacts", filepath.Join(to, "artifacts")}
	code, out, stderr := runTool("migrate", append(args, "--dry-run")...)
	if code != 0 || !strings.Contains(out, "would copy") || !strings.Contains(out, "1 would move") {
		t.Fatalf("dry run: %d\n%s\n%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(to, "artifacts", "sha256", digest[:2], digest)); err == nil {
		t.Fatal("dry run copied the artifact")
	}
	if code, out, stderr = runTool("migrate", args...); code != 0 || !strings.Contains(out, "\n4 changes\n") {
		t.Fatalf("migrate: %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr = runTool("migrate", args...); code != 0 || !strings.Contains(out, "\n0 changes\n") {
		t.Fatalf("re-run: %d\n%s\n%s", code, out, stderr)
	}

	backup := filepath.Join(t.TempDir(), "b")
	code, out, stderr = runTool("backup", "--data-dir", dataDir, "--to", backup)
	if code != 0 || !strings.Contains(out, "1 artifacts") || !strings.Contains(out, "master key is not in it") {
		t.Fatalf("backup: %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr = runTool("restore", "--from", backup, "--verify-only"); code != 0 || !strings.Contains(out, "is intact") {
		t.Fatalf("verify-only: %d\n%s\n%s", code, out, stderr)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if code, out, stderr = runTool("restore", "--from", backup, "--data-dir", restored); code != 0 {
		t.Fatalf("restore: %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr = runTool("restore", "--from", backup, "--data-dir", restored); code == 0 || !strings.Contains(stderr, "--force") {
		t.Fatalf("restore over a non-empty store: %d %s", code, stderr)
	}
	if code, _, stderr = runTool("restore", "--from", backup, "--data-dir", restored, "--force"); code != 0 {
		t.Fatalf("forced restore: %d %s", code, stderr)
	}
}
