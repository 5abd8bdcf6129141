package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestManifestRoundTrip: what Write writes, ParseManifest reads back, and
// the bundle files sit beside it.
func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	out := &Output{Code: []byte("module.exports = {};"), SourceMap: []byte(`{"version":3}`), SHA256: strings.Repeat("ab", 32)}
	e := NewEntry("tokens", "Tokens", "user:tokens_generation", nil, out)
	if err := WriteBundle(dir, e, out); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Workflows: []ManifestEntry{e}}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(data), "}\n") || !strings.Contains(string(data), `"bindings": []`) {
		t.Errorf("manifest text:\n%s", data)
	}
	got, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back %+v, want %+v", got, m)
	}
	for name, want := range map[string][]byte{"tokens.js": out.Code, "tokens.js.map": out.SourceMap} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != string(want) {
			t.Errorf("%s = %q, %v", name, b, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".flowgate-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	empty := t.TempDir()
	if err := (&Manifest{}).Write(empty); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(empty, ManifestName)); string(b) != "{\n  \"workflows\": []\n}\n" {
		t.Errorf("empty manifest %q", b)
	}
}

// TestParseManifestRejects: a manifest that would make a reader open files
// outside the output folder, or is not what build writes, is an error.
func TestParseManifestRejects(t *testing.T) {
	sha := strings.Repeat("0", 64)
	item := func(bundle, smap string) string {
		return `{"id": "a", "name": "", "trigger": "t", "bindings": [], "bundle": "` + bundle + `", "sourceMap": "` + smap + `", "sha256": "` + sha + `"}`
	}
	entry := func(bundle, smap string) string { return `{"workflows": [` + item(bundle, smap) + `]}` }
	cases := []struct{ name, data, want string }{
		{"parent dir", entry("../a.js", "a.js.map"), `"../a.js" must be a relative path`},
		{"absolute", entry("/etc/passwd", "a.js.map"), "must be a relative path"},
		{"backslash", entry(`..\\a.js`, "a.js.map"), "must be a relative path"},
		{"unclean", entry("x/../a.js", "a.js.map"), "must be a relative path"},
		{"empty name", entry("a.js", ""), "must be a relative path"},
		{"unknown field", `{"workflows": [], "extra": 1}`, "unknown field"},
		{"no id", `{"workflows": [{"sha256": "` + sha + `"}]}`, "has no id"},
		{"short sha", `{"workflows": [{"id": "a", "sha256": "ab", "bundle": "a.js", "sourceMap": "a.js.map"}]}`, "64 hex digits"},
		{"duplicate", `{"workflows": [` + item("a.js", "a.js.map") + `,` + item("b.js", "b.js.map") + `]}`, "appears twice"},
		{"trailing", `{"workflows": []} {}`, "text after"},
		{"not JSON", `{`, "manifest:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestWriteFileAtomicFailsCleanly(t *testing.T) {
	err := WriteFileAtomic(filepath.Join(t.TempDir(), "missing", "x"), []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "write ") {
		t.Errorf("err = %v", err)
	}
}

// FuzzParseManifest: any bytes give a manifest whose names stay inside the
// folder, or an error; never a panic.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"workflows": [{"id": "a", "bundle": "a.js", "sourceMap": "a.js.map", "sha256": "` + strings.Repeat("0", 64) + `"}]}`))
	f.Add([]byte(`{"workflows": []}`))
	f.Add([]byte(`{"workflows": [{"id": "a", "bundle": "../x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		for _, e := range m.Workflows {
			for _, n := range []string{e.Bundle, e.SourceMap} {
				if !filepath.IsLocal(filepath.FromSlash(n)) {
					t.Fatalf("accepted %q", n)
				}
			}
		}
	})
}
