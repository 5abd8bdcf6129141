package safetar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name     string
	typ      byte
	body     string
	linkname string
}

func archive(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.linkname}
		if typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: typ, PAXRecords: map[string]string{"comment": "abc123"}}
		}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestExtractGitHubTarball(t *testing.T) {
	dir := t.TempDir()
	data := archive(t,
		entry{name: "pax_global_header", typ: tar.TypeXGlobalHeader},
		entry{name: "acme-flows-abc123/", typ: tar.TypeDir},
		entry{name: "acme-flows-abc123/kinde.json", body: `{"rootDir":"kindeSrc"}`},
		entry{name: "acme-flows-abc123/kindeSrc/environment/workflows/aWorkflow.ts", body: "export default async () => {}"},
		entry{name: "acme-flows-abc123/node_modules/root", typ: tar.TypeSymlink, linkname: "/"},
		entry{name: "acme-flows-abc123/hard", typ: tar.TypeLink, linkname: "acme-flows-abc123/kinde.json"},
	)
	st, err := Extract(bytes.NewReader(data), dir, Options{StripComponents: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 2 {
		t.Errorf("files = %d, want 2", st.Files)
	}
	if st.Skipped != 2 {
		t.Errorf("skipped = %d, want 2", st.Skipped)
	}
	b, err := os.ReadFile(filepath.Join(dir, "kindeSrc/environment/workflows/aWorkflow.ts"))
	if err != nil || string(b) != "export default async () => {}" {
		t.Fatalf("workflow file = %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "node_modules/root")); !os.IsNotExist(err) {
		t.Errorf("a symlink was materialised: %v", err)
	}
}

func TestExtractRefuses(t *testing.T) {
	big := strings.Repeat("x", 2048)
	cases := []struct {
		name    string
		entries []entry
		limits  Limits
		want    error
	}{
		{"dotdot", []entry{{name: "r/../../etc/passwd", body: "x"}}, Limits{}, ErrUnsafe},
		{"dotdot after strip", []entry{{name: "r/a/../../../x", body: "x"}}, Limits{}, ErrUnsafe},
		{"absolute", []entry{{name: "/etc/passwd", body: "x"}}, Limits{}, ErrUnsafe},
		{"backslash", []entry{{name: `r\..\..\x`, body: "x"}}, Limits{}, ErrUnsafe},
		{"duplicate", []entry{{name: "r/a", body: "1"}, {name: "r/a", body: "2"}}, Limits{}, ErrUnsafe},
		{"file over dir", []entry{{name: "r/a", body: "1"}, {name: "r/a/b", body: "2"}}, Limits{}, ErrUnsafe},
		{"file too big", []entry{{name: "r/a", body: big}}, Limits{MaxFileBytes: 1024}, ErrTooLarge},
		{"too many bytes", []entry{{name: "r/a", body: big}, {name: "r/b", body: big}}, Limits{MaxBytes: 3000}, ErrTooLarge},
		{"too many files", []entry{{name: "r/a", body: "1"}, {name: "r/b", body: "2"}, {name: "r/c", body: "3"}}, Limits{MaxFiles: 2}, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outside := t.TempDir()
			dir := filepath.Join(outside, "dest")
			os.Mkdir(dir, 0o755)
			_, err := Extract(bytes.NewReader(archive(t, c.entries...)), dir, Options{StripComponents: 1, Limits: c.limits})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(outside, "etc")); err == nil {
				t.Fatal("wrote outside the destination")
			}
		})
	}
}

// A link an attacker planted on disk before extraction (or a directory
// swapped for one) must not lead writes outside: os.Root refuses it.
func TestExtractDoesNotFollowExistingLinks(t *testing.T) {
	outside := t.TempDir()
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "evil")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	_, err := Extract(bytes.NewReader(archive(t, entry{name: "r/evil/x", body: "pwned"})), dir, Options{StripComponents: 1})
	if err == nil {
		t.Fatal("extraction through a link succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Fatal("wrote through the link")
	}
}

func TestExtractNotGzip(t *testing.T) {
	if _, err := Extract(strings.NewReader("not an archive"), t.TempDir(), Options{}); err == nil {
		t.Fatal("no error for a non-gzip stream")
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(archive(f, entry{name: "r/a", body: "x"}, entry{name: "r/../b", body: "y"}))
	f.Add(archive(f, entry{name: "r/l", typ: tar.TypeSymlink, linkname: "/etc"}, entry{name: "r/l/x", body: "y"}))
	f.Add(archive(f, entry{name: "r/d/", typ: tar.TypeDir}, entry{name: "r/d/e/f/g", body: "x"}, entry{name: "r/p", typ: tar.TypeFifo}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		outside := t.TempDir()
		dir := filepath.Join(outside, "d")
		os.Mkdir(dir, 0o755)
		lim := Limits{MaxBytes: 1 << 20, MaxFiles: 32, MaxDepth: 8, MaxPathLen: 200}
		st, _ := Extract(bytes.NewReader(data), dir, Options{StripComponents: 1, Limits: lim})
		if st.Entries > 64 || st.Files > 32 || st.Bytes > 1<<20 {
			t.Fatalf("stats past the limits: %+v", st)
		}
		if n := countOnDisk(t, dir); n > 64 {
			t.Fatalf("%d entries on disk, limit 64", n)
		}
		// Whatever the archive, nothing may appear beside the destination.
		ents, _ := os.ReadDir(outside)
		if len(ents) != 1 {
			t.Fatalf("extraction wrote outside its directory: %v", ents)
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.Type().IsRegular() && !d.IsDir() {
				t.Fatalf("%s is neither a file nor a directory: %v", p, d.Type())
			}
			return nil
		})
	})
}
