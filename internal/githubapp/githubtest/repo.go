package githubtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
)

// SHA is a commit id made from label (its SHA-1), so a test names
// commits by what they hold.
func SHA(label string) string {
	h := sha1.Sum([]byte(label))
	return hex.EncodeToString(h[:])
}

// Prefix is the single top-level directory of repo's tarball at sha, as
// GitHub lays it out: "owner-name-<first 7 of sha>/".
func Prefix(repo, sha string) string {
	return strings.ReplaceAll(repo, "/", "-") + "-" + sha[:min(7, len(sha))] + "/"
}

// Entry is one raw tar entry, for archives no honest commit makes. Its
// Name is used as is (no Prefix added).
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg, tar.TypeDir, tar.TypeSymlink, ...
	Body     string
	Linkname string
	Size     int64 // when larger than Body: the body is zero-padded to Size
}

// Tarball is repo's .tar.gz at sha as GitHub serves it: the directory
// Prefix(repo, sha), files (path -> content) under it in path order, then
// the extra entries in order.
func Tarball(t testing.TB, repo, sha string, files map[string]string, extra ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	prefix := Prefix(repo, sha)
	if err := tw.WriteHeader(&tar.Header{Name: prefix, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	for _, n := range slices.Sorted(maps.Keys(files)) {
		entries = append(entries, Entry{Name: prefix + n, Type: tar.TypeReg, Body: files[n]})
	}
	for _, e := range append(entries, extra...) {
		hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: 0o644, Linkname: e.Linkname}
		if e.Type == tar.TypeReg {
			hdr.Size = max(int64(len(e.Body)), e.Size)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.Type == tar.TypeReg {
			io.WriteString(tw, e.Body)
			if pad := hdr.Size - int64(len(e.Body)); pad > 0 {
				io.CopyN(tw, zeros{}, pad)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Commit serves files (and extra raw entries) as repo's tarball at sha;
// see Tarball.
func (s *Server) Commit(t testing.TB, repo, sha string, files map[string]string, extra ...Entry) {
	t.Helper()
	s.SetTarball(repo, sha, Tarball(t, repo, sha, files, extra...))
}
