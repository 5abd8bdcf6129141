package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

var mtime = time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)

// files writes name→content files into a temporary directory (names ending
// in ".exe" or without a dot are made executable) and returns the entries
// in the order given.
func files(t *testing.T, dir string, contents map[string]string, order ...string) []Entry {
	t.Helper()
	var es []Entry
	for _, name := range order {
		p := filepath.Join(dir, name)
		mode := os.FileMode(0o600)
		if !strings.Contains(name, ".") || strings.HasSuffix(name, ".exe") {
			mode = 0o700
		}
		if err := os.WriteFile(p, []byte(contents[name]), mode); err != nil {
			t.Fatal(err)
		}
		es = append(es, Entry{Name: name, Path: p})
	}
	return es
}

type unpacked struct {
	name, content string
	mode          int64
	mtime         time.Time
	uid, gid      int
	uname         string
}

func untar(t *testing.T, data []byte) []unpacked {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q, time %v: want neither", gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	var out []unpacked
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, unpacked{h.Name, string(b), h.Mode, h.ModTime.UTC(), h.Uid, h.Gid, h.Uname})
	}
}

func unzip(t *testing.T, data []byte) []unpacked {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []unpacked
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out = append(out, unpacked{f.Name, string(b), int64(f.Mode().Perm()), f.Modified.UTC(), 0, 0, ""})
	}
	return out
}

func TestArchivesAreReproducible(t *testing.T) {
	contents := map[string]string{"flowgate": "binary bytes", "README.md": "read me", "flowgate.exe": "pe bytes"}
	for _, format := range []struct {
		name   string
		read   func(*testing.T, []byte) []unpacked
		binary string
	}{
		{"flowgate_v1.0.0_linux_amd64.tar.gz", untar, "flowgate"},
		{"flowgate_v1.0.0_windows_amd64.zip", unzip, "flowgate.exe"},
	} {
		t.Run(format.name, func(t *testing.T) {
			// The same files, written in another order from another directory with other
			// permissions on disk, must give the same bytes.
			a := files(t, t.TempDir(), contents, format.binary, "README.md")
			b := files(t, t.TempDir(), contents, "README.md", format.binary)
			if err := os.Chmod(b[1].Path, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(b[1].Path, time.Now(), time.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			var first, second bytes.Buffer
			if err := WriteArchive(&first, format.name, a, mtime); err != nil {
				t.Fatal(err)
			}
			if err := WriteArchive(&second, format.name, b, mtime); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Fatalf("two archives of the same files differ (%d and %d bytes)", first.Len(), second.Len())
			}
			got := format.read(t, first.Bytes())
			want := []unpacked{
				{"README.md", "read me", 0o644, mtime, 0, 0, ""},
				{format.binary, contents[format.binary], 0o755, mtime, 0, 0, ""},
			}
			if len(got) != len(want) {
				t.Fatalf("entries %+v, want %+v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
				}
			}
			// A different mtime is a different archive: the time is really recorded.
			var later bytes.Buffer
			if err := WriteArchive(&later, format.name, a, mtime.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(first.Bytes(), later.Bytes()) {
				t.Error("the archive ignores the mtime it was given")
			}
		})
	}
}

func TestArchiveRefusesBadEntries(t *testing.T) {
	dir := t.TempDir()
	ok := files(t, dir, map[string]string{"flowgate": "x"}, "flowgate")[0]
	for name, tc := range map[string]struct {
		archive string
		entries []Entry
		want    string
	}{
		"escapes":        {"a.tar.gz", []Entry{{Name: "../flowgate", Path: ok.Path}}, "clean relative path"},
		"absolute":       {"a.tar.gz", []Entry{{Name: "/usr/bin/flowgate", Path: ok.Path}}, "clean relative path"},
		"unclean":        {"a.zip", []Entry{{Name: "bin/../../flowgate", Path: ok.Path}}, "clean relative path"},
		"backslash":      {"a.zip", []Entry{{Name: `..\flowgate`, Path: ok.Path}}, "clean relative path"},
		"duplicate":      {"a.tar.gz", []Entry{ok, ok}, "appears twice"},
		"empty":          {"a.tar.gz", nil, "no files"},
		"missing file":   {"a.tar.gz", []Entry{{Name: "flowgate", Path: filepath.Join(dir, "nope")}}, "no such file"},
		"directory":      {"a.tar.gz", []Entry{{Name: "flowgate", Path: dir}}, "not a regular file"},
		"unknown format": {"a.rar", []Entry{ok}, "must end in .tar.gz or .zip"},
	} {
		err := WriteArchive(io.Discard, tc.archive, tc.entries, mtime)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestChecksumsMatchSha256sum(t *testing.T) {
	dir := t.TempDir()
	files(t, dir, map[string]string{"b.zip": "hello", "a.tar.gz": ""}, "b.zip", "a.tar.gz")
	got, err := Checksums(dir, []string{"b.zip", "a.tar.gz"})
	if err != nil {
		t.Fatal(err)
	}
	want := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.tar.gz\n" +
		"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  b.zip\n"
	if string(got) != want {
		t.Fatalf("checksums.txt:\n%s\nwant:\n%s", got, want)
	}
	// The Action checks downloads with sha256sum -c; the file must be in its format.
	if path, err := exec.LookPath("sha256sum"); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "checksums.txt"), got, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(path, "-c", "checksums.txt")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
	}
	for _, bad := range [][]string{{"a.tar.gz", "a.tar.gz"}, {"../b.zip"}, {"sub/b.zip"}, {"a b"}, {"missing"}} {
		if _, err := Checksums(dir, bad); err == nil {
			t.Errorf("Checksums(%q): no error", bad)
		}
	}
}

func TestSBOM(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "github.com/flowgate/flowgate/cmd/flowgate",
		Main:      debug.Module{Path: "github.com/flowgate/flowgate", Version: "v1.2.0"},
		Deps: []*debug.Module{
			{Path: "github.com/zeta/z", Version: "v0.1.0", Sum: "h1:zzz="},
			{Path: "github.com/dop251/goja", Version: "v0.0.0-20250101000000-abcdef", Sum: "h1:goja=",
				Replace: &debug.Module{Path: "github.com/fork/goja", Version: "v0.0.1", Sum: "h1:fork="}},
		},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		},
	}
	sum := sha256.Sum256([]byte("the binary"))
	art := Artifact{Name: "flowgate", Label: "flowgate_v1.2.0_linux_arm64", SHA256: sum[:]}
	out, err := SBOM(bi, art, mtime)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := SBOM(bi, art, mtime)
	if !bytes.Equal(out, again) {
		t.Fatal("the same binary gave two different SBOMs")
	}
	var doc spdxDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" ||
		doc.CreationInfo.Created != "2026-12-07T01:02:03Z" || !strings.HasSuffix(doc.DocumentNamespace, "-"+sumHex(sum[:])) {
		t.Errorf("document header: %+v", doc)
	}
	type row struct{ name, version, purl string }
	var got []row
	ids := map[string]bool{}
	for _, p := range doc.Packages {
		if ids[p.SPDXID] {
			t.Errorf("SPDXID %s used twice", p.SPDXID)
		}
		ids[p.SPDXID] = true
		r := row{name: p.Name, version: p.VersionInfo}
		if len(p.ExternalRefs) > 0 {
			r.purl = p.ExternalRefs[0].ReferenceLocator
		}
		got = append(got, r)
	}
	want := []row{
		{"flowgate", "v1.2.0", ""},
		{"github.com/flowgate/flowgate", "v1.2.0", "pkg:golang/github.com/flowgate/flowgate@v1.2.0"},
		{"stdlib", "go1.26.8", "pkg:golang/stdlib@1.26.8"},
		{"github.com/fork/goja", "v0.0.1", "pkg:golang/github.com/fork/goja@v0.0.1"}, // the replacement is what was linked
		{"github.com/zeta/z", "v0.1.0", "pkg:golang/github.com/zeta/z@v0.1.0"},
	}
	if len(got) != len(want) {
		t.Fatalf("packages %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("package %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	bin := doc.Packages[0]
	if len(bin.Checksums) != 1 || bin.Checksums[0].ChecksumValue != sumHex(sum[:]) || !strings.Contains(bin.Comment, "GOARCH=arm64") {
		t.Errorf("binary package: %+v", bin)
	}
	if doc.Packages[1].DownloadLocation != "git+https://github.com/flowgate/flowgate.git@0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("main module location %q", doc.Packages[1].DownloadLocation)
	}
	for _, p := range doc.Packages {
		if p.SPDXID == "SPDXRef-DOCUMENT" || !strings.HasPrefix(p.SPDXID, "SPDXRef-") || spdxIDUnsafe.MatchString(strings.TrimPrefix(p.SPDXID, "SPDXRef-")) {
			t.Errorf("bad SPDXID %q", p.SPDXID)
		}
	}
	related := map[string]bool{}
	for _, r := range doc.Relationships {
		if !ids[r.Related] {
			t.Errorf("relationship %+v points at no package", r)
		}
		related[r.Related] = true
	}
	for id := range ids {
		if !related[id] {
			t.Errorf("package %s is in no relationship", id)
		}
	}

	if _, err := SBOM(&debug.BuildInfo{}, art, mtime); err == nil {
		t.Error("SBOM of a binary without module information: no error")
	}
	if _, err := SBOM(bi, Artifact{Name: "flowgate"}, mtime); err == nil {
		t.Error("SBOM without the binary's checksum: no error")
	}
}

// The test binary is a real Go binary: its build information must make an SBOM.
func TestSBOMOfARealBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bi, err := buildinfo.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := FileSHA256(exe)
	if err != nil {
		t.Fatal(err)
	}
	out, err := SBOM(bi, Artifact{Name: "release.test", Label: "release.test", SHA256: sum}, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) || !bytes.Contains(out, []byte(`"name": "stdlib"`)) {
		t.Fatalf("SBOM of the test binary:\n%s", out)
	}
}

func sumHex(b []byte) string { return hex.EncodeToString(b) }
