// Package testenv finds the real outside parts the tests use (npm packages
// today) and says clearly when they are missing. Locally a missing part
// skips the test; under .ci/run (FLOWGATE_REQUIRE_DEPS=1) it fails it, so CI
// never skips silently.
package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// missing skips or fails the test for an absent outside part.
func missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("FLOWGATE_REQUIRE_DEPS") == "1" {
		t.Fatalf("%s is missing (FLOWGATE_REQUIRE_DEPS=1): %s", what, how)
	}
	t.Skipf("skipping: %s is missing; %s", what, how)
}

// NodeModules returns the node_modules directory holding the real
// @kinde/infrastructure@0.9.0, installed by `npm ci --prefix testdata/npm`.
func NodeModules(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(), "testdata", "npm", "node_modules")
	if _, err := os.Stat(filepath.Join(dir, "@kinde", "infrastructure", "package.json")); err != nil {
		missing(t, "npm package @kinde/infrastructure", "run `npm ci --prefix testdata/npm` (what .ci/run does)")
	}
	return dir
}

// CopyRepo copies the fixture repository src into a fresh temporary
// directory and returns it. When withModules is true the copy gets a
// node_modules link to the real npm packages (see NodeModules).
func CopyRepo(t testing.TB, src string, withModules bool) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatalf("copy fixture %s: %v", src, err)
	}
	if withModules {
		// Hard links, not a symbolic link: the bundler refuses files that
		// lie outside the repository once links are followed.
		if err := linkTree(NodeModules(t), filepath.Join(dst, "node_modules")); err != nil {
			t.Fatalf("link node_modules: %v", err)
		}
	}
	return dst
}

// linkTree recreates the folders of src under dst and hard-links its files
// (copying them where a hard link is impossible, across file systems).
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		if os.Link(path, target) == nil {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
