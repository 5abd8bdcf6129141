package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/safetar"
)

// Fetcher writes a commit's tree into dst, an empty private directory the
// pipeline owns (the snapshot). It returns what it fetched; an error that
// is the commit's own fault (an unsafe or oversized archive) is a
// *ContentError: the sync fails and is not retried. Any other error is
// retried.
type Fetcher interface {
	Fetch(ctx context.Context, src JobSource, commitSHA, dst string) (Fetched, error)
}

// FetcherFunc adapts a function to Fetcher.
type FetcherFunc func(ctx context.Context, src JobSource, commitSHA, dst string) (Fetched, error)

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context, src JobSource, sha, dst string) (Fetched, error) {
	return f(ctx, src, sha, dst)
}

// Fetched says what a Fetcher wrote.
type Fetched struct {
	Skipped int // links and other entries left out
}

// ContentError is a commit that cannot be synced as it is.
type ContentError struct{ Err error }

func (e *ContentError) Error() string { return e.Err.Error() }
func (e *ContentError) Unwrap() error { return e.Err }

// errChanged: a plain directory changed while it was copied; the watcher
// queues its new state.
var errChanged = errors.New("the directory changed while it was copied")

// Bounds of a local directory source (a git archive uses safetar's).
const (
	maxDirFiles = 20000
	maxDirBytes = 256 << 20
)

// DirFetcher serves kinds "dir" and "dev": Ref is a local directory. A git
// repository (Ref has its own .git) is read from its committed tree — the
// commit commitSHA names, as `git archive` writes it, so uncommitted edits
// and ignored files never reach a deployment. Any other directory is
// copied without .git and node_modules; its commitSHA, when it starts with
// "dev-", must be the copy's DirRef (else the copy is dropped: the
// directory changed meanwhile). Links are left out, as in archives;
// devices, FIFOs and sockets refuse the commit.
var DirFetcher = FetcherFunc(func(ctx context.Context, src JobSource, commitSHA, dst string) (Fetched, error) {
	if isGit(src.Ref) && commitSHA != "" && !strings.HasPrefix(commitSHA, "dev-") {
		return gitArchive(ctx, src.Ref, commitSHA, dst)
	}
	f, sum, err := copyTree(src.Ref, dst)
	if err != nil {
		return f, err
	}
	if strings.HasPrefix(commitSHA, "dev-") && commitSHA != "dev-"+sum[:16] {
		return f, errChanged
	}
	return f, nil
})

func isGit(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil
}

// DirRef names a local directory's current state: for a git repository
// the commit HEAD points at (read once: the deployment carries the SHA of
// the very tree it was built from), else "dev-" and a hash of the files
// a copy would take.
func DirRef(ctx context.Context, dir string) (string, error) {
	if isGit(dir) {
		out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "HEAD^{commit}").Output()
		if err != nil {
			return "", fmt.Errorf("git rev-parse HEAD in %s: %w (a repository without commits syncs once it has one)", dir, err)
		}
		sha := strings.TrimSpace(string(out))
		if !validCommit(sha) {
			return "", fmt.Errorf("git rev-parse HEAD in %s: unexpected answer %q", dir, sha)
		}
		return sha, nil
	}
	_, sum, err := walkTree(dir, nil)
	if err != nil {
		return "", err
	}
	return "dev-" + sum[:16], nil
}

func validCommit(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// gitArchive writes commit sha of the repository at dir into dst.
func gitArchive(ctx context.Context, dir, sha, dst string) (Fetched, error) {
	if !validCommit(sha) {
		return Fetched{}, &ContentError{fmt.Errorf("%q is not a commit id", sha)}
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "archive", "--format=tar", sha)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Fetched{}, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return Fetched{}, fmt.Errorf("git archive: %w", err)
	}
	st, xerr := safetar.ExtractTar(out, dst, safetar.Options{})
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if errors.Is(xerr, safetar.ErrUnsafe) || errors.Is(xerr, safetar.ErrTooLarge) {
		return Fetched{}, &ContentError{fmt.Errorf("the commit cannot be synced: %w", xerr)}
	}
	if xerr != nil {
		return Fetched{}, fmt.Errorf("extract git archive of %s: %w", sha, xerr)
	}
	if werr != nil {
		return Fetched{}, fmt.Errorf("git archive %s in %s: %w: %s", sha, dir, werr, strings.TrimSpace(stderr.String()))
	}
	return Fetched{Skipped: st.Skipped}, nil
}

// copyTree copies a plain directory into dst and returns the hash DirRef
// names it by.
func copyTree(src, dst string) (Fetched, string, error) {
	return walkTree(src, func(rel string, data []byte) error {
		p := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o600)
	})
}

// walkTree reads every regular file under dir (leaving out .git and
// node_modules folders at any depth, and links), passes each to put when
// put is set, and hashes paths and contents in path order.
func walkTree(dir string, put func(rel string, data []byte) error) (Fetched, string, error) {
	var f Fetched
	var files []string
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch t := d.Type(); {
		case d.IsDir():
			if p != dir && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		case t&fs.ModeSymlink != 0:
			f.Skipped++
			return nil
		case !t.IsRegular():
			return &ContentError{fmt.Errorf("%s is a device, FIFO or socket: a repository holds files only", rel)}
		}
		if len(files) >= maxDirFiles {
			return &ContentError{fmt.Errorf("more than %d files: is %s the right directory?", maxDirFiles, dir)}
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return f, "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return f, "", err
		}
		if total += int64(len(data)); total > maxDirBytes {
			return f, "", &ContentError{fmt.Errorf("more than %d MiB of files", maxDirBytes>>20)}
		}
		fmt.Fprintf(h, "%d:%s\x00%d:", len(rel), rel, len(data))
		h.Write(data)
		if put != nil {
			if err := put(rel, data); err != nil {
				return f, "", err
			}
		}
	}
	return f, hex.EncodeToString(h.Sum(nil)), nil
}

// cleanSnapshot removes every node_modules folder (a committed one is
// never trusted, at any depth: the bundler looks in every parent's) and
// refuses devices, FIFOs and sockets wherever a fetcher left them.
func cleanSnapshot(dir string) error {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case d.IsDir() && d.Name() == "node_modules":
			found = append(found, p)
			return filepath.SkipDir
		case d.IsDir(), t.IsRegular(), t&fs.ModeSymlink != 0:
			return nil
		default:
			rel, _ := filepath.Rel(dir, p)
			return &ContentError{fmt.Errorf("%s is a device, FIFO or socket: a repository holds files only", filepath.ToSlash(rel))}
		}
	})
	if err != nil {
		return err
	}
	for _, p := range found {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
