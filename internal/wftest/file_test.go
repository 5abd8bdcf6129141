package wftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEventFileStaysInTheRepository: a test file (perhaps from a pull
// request) cannot make the runner read outside the repository, through a
// path or a link, nor hang it on a pipe or flood it with a huge file.
func TestEventFileStaysInTheRepository(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.json")
	if err := os.WriteFile(secret, []byte(`{"context": {"token": "s3cret"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	repoDir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(repoDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("events/ok.json", `{"context": {"user": {"id": "kp_1"}}}`)
	write("events/big.json", `{"x": "`+strings.Repeat("a", MaxEventBytes)+`"}`)
	if err := os.Symlink(secret, filepath.Join(repoDir, "events", "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(repoDir, "events", "pipe.json")); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	root, err := os.OpenRoot(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	cases := []struct{ eventFile, want string }{
		{"../events/ok.json", ""},
		{"../../" + filepath.Base(outside) + "/secret.json", "is not inside the repository"},
		{secret, "is not inside the repository"},
		{`..\events\ok.json`, "is not inside the repository"},
		{"../events/link.json", "cannot read ../events/link.json"},
		{"../events/pipe.json", "is not a regular file"},
		{"../events/big.json", "more than the limit"},
		{"../events/none.json", "paths are relative to the test file's folder"},
	}
	for _, c := range cases {
		t.Run(c.eventFile, func(t *testing.T) {
			data := `{"workflow": "w", "cases": [{"name": "n", "eventFile": ` + quote(c.eventFile) + `}]}`
			f, err := Parse([]byte(data), "tests/x.test.json", root.FS(), "tests")
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("err = %v", err)
			case c.want == "":
				if !strings.Contains(string(f.Cases[0].Event), "kp_1") {
					t.Errorf("event %s", f.Cases[0].Event)
				}
			case err == nil || !strings.Contains(err.Error(), c.want):
				t.Errorf("err = %v, want %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the outside file: %v", err)
			}
		})
	}
}

// TestLoad: a test file over the size limit, or not a regular file, is a
// located error before anything is parsed.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.test.json"), []byte(strings.Repeat(" ", MaxFileBytes+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.test.json"), []byte(`{"trigger": "user:pre_mfa", "cases": [{"name": "n", "event": {}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := Load(root.FS(), "big.test.json", "shown/big.test.json"); err == nil || !strings.HasPrefix(err.Error(), "shown/big.test.json:1:1: ") || !strings.Contains(err.Error(), "more than the limit") {
		t.Errorf("big: %v", err)
	}
	if f, err := Load(root.FS(), "ok.test.json", "ok.test.json"); err != nil || f.Trigger != "user:pre_mfa" || len(f.Cases) != 1 || f.Cases[0].Fetch == nil {
		t.Errorf("ok: %+v, %v", f, err)
	}
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
