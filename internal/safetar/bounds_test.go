package safetar

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every entry counts against MaxEntries, not only regular files: an archive
// of empty directories, of links, or of files whose parents are all new
// directories each stop at the limit.
func TestExtractCountsEveryEntry(t *testing.T) {
	many := func(n int, mk func(i int) entry) []entry {
		var es []entry
		for i := range n {
			es = append(es, mk(i))
		}
		return es
	}
	cases := []struct {
		name    string
		entries []entry
		want    error
	}{
		{"directories", many(101, func(i int) entry { return entry{name: fmt.Sprintf("r/d%d/", i), typ: tar.TypeDir} }), ErrTooLarge},
		{"links", many(101, func(i int) entry {
			return entry{name: fmt.Sprintf("r/l%d", i), typ: tar.TypeSymlink, linkname: strings.Repeat("x", 90)}
		}), ErrTooLarge},
		{"implicit parents", many(10, func(i int) entry {
			return entry{name: fmt.Sprintf("r/%d/a/b/c/d/e/f/g/h/i/j/f", i), body: "x"}
		}), ErrTooLarge},
		{"pax headers", many(101, func(int) entry { return entry{typ: tar.TypeXGlobalHeader} }), ErrTooLarge},
		{"at the limit", append(many(49, func(i int) entry { return entry{name: fmt.Sprintf("r/d%d/", i), typ: tar.TypeDir} }),
			many(50, func(i int) entry { return entry{name: fmt.Sprintf("r/d%d/f", i), body: "x"} })...), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := Extract(bytes.NewReader(archive(t, c.entries...)), dir, Options{StripComponents: 1, Limits: Limits{MaxFiles: 50}})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if st.Entries > 100 {
				t.Errorf("read %d entries past the limit of 100", st.Entries)
			}
			if n := countOnDisk(t, dir); n > 100 {
				t.Errorf("%d entries on disk, limit 100", n)
			}
		})
	}
}

// The uncompressed stream is bounded, so entries whose bodies are never
// written (unknown types) cannot make a small download decompress without end.
func TestExtractBoundsTheStream(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte{0}, 64<<10)
	for i := range 20 {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("r/x%d", i), Typeflag: 'Z', Size: int64(len(body))})
		tw.Write(body)
	}
	tw.Close()
	st, err := ExtractTar(bytes.NewReader(buf.Bytes()), t.TempDir(), Options{StripComponents: 1, Limits: Limits{MaxBytes: 256 << 10, MaxEntries: 64}})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "unpacks to more than") {
		t.Fatalf("err = %v, want the stream limit", err)
	}
	if st.Skipped >= 20 {
		t.Errorf("skipped %d entries: the whole stream was read", st.Skipped)
	}
}

func TestExtractRefusesPathsAndTypes(t *testing.T) {
	deep := "r/" + strings.Repeat("d/", 10) + "f"
	cases := []struct {
		name   string
		e      entry
		limits Limits
		want   error
		text   string
	}{
		{"long name", entry{name: "r/" + strings.Repeat("n", 300), body: "x"}, Limits{MaxPathLen: 256}, ErrTooLarge, "302 bytes long"},
		{"deep", entry{name: deep, body: "x"}, Limits{MaxDepth: 8}, ErrTooLarge, "11 directories deep"},
		{"deep directory", entry{name: deep + "/", typ: tar.TypeDir}, Limits{MaxDepth: 8}, ErrTooLarge, "deep"},
		{"char device", entry{name: "r/zero", typ: tar.TypeChar}, Limits{}, ErrUnsafe, "device or FIFO"},
		{"block device", entry{name: "r/sda", typ: tar.TypeBlock}, Limits{}, ErrUnsafe, "device or FIFO"},
		{"fifo", entry{name: "r/pipe", typ: tar.TypeFifo}, Limits{}, ErrUnsafe, "device or FIFO"},
		{"fifo in the stripped root", entry{name: "pipe", typ: tar.TypeFifo}, Limits{}, ErrUnsafe, "device or FIFO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Extract(bytes.NewReader(archive(t, c.e)), dir, Options{StripComponents: 1, Limits: c.limits})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("err = %v, want %v saying %q", err, c.want, c.text)
			}
			if n := countOnDisk(t, dir); n > 11 {
				t.Errorf("%d entries written", n)
			}
		})
	}
	// Within the limits the same shapes extract.
	if _, err := Extract(bytes.NewReader(archive(t, entry{name: deep, body: "x"})), t.TempDir(), Options{StripComponents: 1}); err != nil {
		t.Fatalf("an 11-deep file under the default depth: %v", err)
	}
}

func countOnDisk(t *testing.T, dir string) int {
	t.Helper()
	n := -1 // the root itself
	filepath.WalkDir(dir, func(string, os.DirEntry, error) error { n++; return nil })
	return n
}
