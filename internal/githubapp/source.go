package githubapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/safetar"
)

// snapshot is one commit's files on disk, ready for project.Check.
type snapshot struct {
	Dir     string            // the repository root
	RootDir string            // kinde.json's rootDir ("" when unreadable)
	NPM     []diag.Diagnostic // what installing the imported packages found
	Skipped int               // links and other entries left out
	release func()
}

// contentError is a commit that cannot be synced as it is (an unsafe or
// oversized archive): reported on the check run, never retried.
type contentError struct{ err error }

func (e *contentError) Error() string { return e.err.Error() }
func (e *contentError) Unwrap() error { return e.err }

// fetch downloads the commit's tarball (GitHub answers the API request with
// a redirect to an archive host; the archive is fetched from there without
// the installation token), extracts it safely, drops any committed
// node_modules and installs the allowed npm packages the workflows import.
func (a *App) fetch(ctx context.Context, r repoRef, sha string) (*snapshot, error) {
	if !validSHA(sha) {
		return nil, badPayload("commit %q", truncate(sha, 80))
	}
	u, _, err := a.client(r).Repositories.GetArchiveLink(ctx, r.Owner, r.Name, github.Tarball, &github.RepositoryContentGetOptions{Ref: sha}, 0)
	if err != nil {
		return nil, fmt.Errorf("tarball link of %s@%s: %w", r.Full(), short(sha), err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("tarball of %s@%s: redirect to %q refused", r.Full(), short(sha), u.Scheme)
	}
	tmp, err := os.MkdirTemp(a.opts.WorkDir, "flowgate-gh-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	snap := &snapshot{Dir: filepath.Join(tmp, "src"), release: func() { os.RemoveAll(tmp) }}
	ok := false
	defer func() {
		if !ok {
			snap.release()
		}
	}()
	if err := os.Mkdir(snap.Dir, 0o700); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.opts.Download.Do(req) // no Authorization: the link is signed
	if err != nil {
		// The link's query may hold a download token: name the host only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("download tarball of %s@%s from %s: %w", r.Full(), short(sha), u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download tarball of %s@%s: %s", r.Full(), short(sha), resp.Status)
	}
	body := &capped{r: resp.Body, left: a.opts.MaxArchiveBytes}
	st, err := safetar.Extract(body, snap.Dir, safetar.Options{StripComponents: 1, Limits: a.opts.Limits})
	if body.over {
		return nil, &contentError{fmt.Errorf("the commit's archive is larger than %d MiB", a.opts.MaxArchiveBytes>>20)}
	}
	if errors.Is(err, safetar.ErrUnsafe) || errors.Is(err, safetar.ErrTooLarge) {
		return nil, &contentError{fmt.Errorf("the commit cannot be synced: %w", err)}
	}
	if err != nil {
		return nil, fmt.Errorf("extract %s@%s: %w", r.Full(), short(sha), err)
	}
	snap.Skipped = st.Skipped
	// A committed node_modules is never trusted, at any depth (the bundler
	// looks for packages in every parent folder's node_modules): packages
	// come from the registry, checked against their integrity hashes.
	if err := removeNodeModules(snap.Dir); err != nil {
		return nil, err
	}
	nm := filepath.Join(snap.Dir, "node_modules")
	proj, _, err := project.Load(snap.Dir)
	if err != nil {
		return nil, fmt.Errorf("read %s@%s: %w", r.Full(), short(sha), err)
	}
	if proj.Config != nil {
		snap.RootDir = proj.Config.RootDir
		if len(proj.Files) > 0 {
			_, ds, err := npm.Install(ctx, snap.Dir, nm, npm.Options{
				Registry: a.opts.NPMRegistry, Allow: a.opts.NPMAllow, CacheDir: a.opts.NPMCacheDir,
				NPM: proj.Config.NPM, Entries: proj.Files, ScanImports: a.opts.ScanImports,
			})
			if err != nil {
				return nil, fmt.Errorf("install npm packages of %s@%s: %w", r.Full(), short(sha), err)
			}
			snap.NPM = ds
		}
	}
	ok = true
	return snap, nil
}

// capped reads at most left bytes and notes whether there was more.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.over = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func validSHA(s string) bool {
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

// relevant reports whether a changed path can change what a sync deploys:
// kinde.json, the package files, or anything under rootDir.
func relevant(p, rootDir string) bool {
	switch p {
	case project.KindeJSON, "package.json", "package-lock.json":
		return true
	}
	if rootDir == "" {
		return true // kinde.json unreadable: sync, and let it say why
	}
	root := path.Clean(rootDir)
	return root == "." || p == root || strings.HasPrefix(p, root+"/")
}

// removeNodeModules deletes every node_modules folder under dir.
func removeNodeModules(dir string) error {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			found = append(found, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("look for committed node_modules: %w", err)
	}
	for _, p := range found {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
