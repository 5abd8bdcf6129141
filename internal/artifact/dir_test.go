package artifact

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func dirBackend() backend {
	return backend{
		open: func(t *testing.T, opts Options) Store {
			st, err := Open(context.Background(), filepath.Join(t.TempDir(), "artifacts"), opts)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		plant: func(t *testing.T, st Store, digest string, data []byte) {
			path := st.(*Dir).path(digest)
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				t.Fatal(err)
			}
			// Overwrite in place, the way disk corruption or a careless
			// operator would.
			if err := os.WriteFile(path, data, 0o640); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func TestDirStore(t *testing.T) { runSuite(t, dirBackend()) }

func TestDirLayoutAndNoLeftovers(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "a")
	st, err := OpenDir(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	digest, err := st.Put(ctx, []byte("bundle"))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "sha256", digest[:2], digest)
	info, err := os.Stat(want)
	if err != nil {
		t.Fatalf("blob not at %s: %v", want, err)
	}
	if perm := info.Mode().Perm(); perm&0o007 != 0 {
		t.Errorf("blob permissions %04o: readable by others", perm)
	}
	// A second Put leaves the file untouched (never overwrite): the
	// modification time, set an hour back, stays where it was.
	before := info.ModTime().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(want, before, before); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, []byte("bundle")); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(want); !info.ModTime().Equal(before) {
		t.Error("Put of existing content rewrote the file")
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDirTraversalTouchesNothingOutside(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := OpenDir(filepath.Join(parent, "store"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, digest := range []string{"../../secret", "../../../secret", strings.Repeat("../", 20) + "etc/passwd"} {
		if _, err := st.Get(ctx, digest); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("Get(%q) = %v, want ErrInvalidDigest", digest, err)
		}
	}
}

func TestDirNotARegularFile(t *testing.T) {
	ctx := context.Background()
	st, err := OpenDir(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	digest := Digest([]byte("d"))
	if err := os.MkdirAll(st.path(digest), 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, digest); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Get of a directory: err = %v", err)
	}
	if ok, err := st.Has(ctx, digest); ok || err != nil {
		t.Fatalf("Has of a directory = %v, %v; want false, nil", ok, err)
	}
}

func TestOpenSpec(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		spec string
		want string // error substring; "" = success
	}{
		"empty":             {"", "empty location"},
		"unsupported":       {"ftp://host/dir", "unsupported scheme"},
		"file url":          {"file:///tmp/x", "unsupported scheme"},
		"s3 without bucket": {"s3:///prefix", "want s3://bucket/prefix"},
		"s3 one slash":      {"s3:/bucket/prefix", "want s3://bucket/prefix"},
		"s3 no slash":       {"s3:bucket", "want s3://bucket/prefix"},
		"s3 with user":      {"s3://user@bucket/p", "no user"},
		"s3 with dotdot":    {"s3://bucket/a/../b", "may not contain"},
		"directory":         {filepath.Join(t.TempDir(), "new", "dir"), ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(ctx, tc.spec, Options{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open(%q): %v", tc.spec, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%q): err = %v, want it to contain %q", tc.spec, err, tc.want)
			}
		})
	}
}

func TestParseS3Spec(t *testing.T) {
	for _, tc := range []struct{ spec, bucket, prefix string }{
		{"s3://b", "b", ""},
		{"s3://b/", "b", ""},
		{"s3://b/artifacts", "b", "artifacts/"},
		{"s3://b/a/b/", "b", "a/b/"},
	} {
		bucket, prefix, err := ParseS3Spec(tc.spec)
		if err != nil || bucket != tc.bucket || prefix != tc.prefix {
			t.Errorf("ParseS3Spec(%q) = %q, %q, %v; want %q, %q", tc.spec, bucket, prefix, err, tc.bucket, tc.prefix)
		}
	}
}

func TestValidDigest(t *testing.T) {
	if !ValidDigest(Digest(nil)) {
		t.Fatal("the digest of empty data is not valid")
	}
}

func FuzzValidDigest(f *testing.F) {
	f.Add(Digest([]byte("x")))
	f.Add("../../etc/passwd")
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidDigest(s) {
			return
		}
		// A valid digest is a plain file name: no separators, no dots.
		if strings.ContainsAny(s, "/\\.") || len(s) != 64 || filepath.Base(s) != s {
			t.Fatalf("ValidDigest accepted %q", s)
		}
	})
}
