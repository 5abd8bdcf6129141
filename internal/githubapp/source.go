package githubapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/safetar"
)

// SourceKind is the deploy source kind of GitHub repositories: its
// Fetcher downloads a commit's tarball, its Reporter writes check runs.
const SourceKind = "github"

// sourceMeta is what the GitHub source needs besides "owner/repo".
type sourceMeta struct {
	Installation  int64  `json:"installation"`
	DefaultBranch string `json:"defaultBranch,omitempty"`
	Branch        string `json:"branch,omitempty"`
	Delivery      string `json:"delivery,omitempty"` // the check runs' external id
}

// source is the deploy source of a commit of r.
func source(r repoRef, branch, delivery string) deploy.JobSource {
	meta, _ := json.Marshal(sourceMeta{Installation: r.Installation, DefaultBranch: r.DefaultBranch, Branch: branch, Delivery: delivery})
	return deploy.JobSource{Kind: SourceKind, Ref: r.Full(), Meta: meta}
}

// repoOf reads a deploy source back.
func repoOf(src deploy.JobSource) (repoRef, sourceMeta, error) {
	var m sourceMeta
	if src.Kind != SourceKind || !validRepo(src.Ref) {
		return repoRef{}, m, fmt.Errorf("not a GitHub source: %s:%s", src.Kind, truncate(src.Ref, 200))
	}
	if err := json.Unmarshal(src.Meta, &m); err != nil || m.Installation == 0 {
		return repoRef{}, m, fmt.Errorf("GitHub source %s without its installation", src.Ref)
	}
	owner, name, _ := strings.Cut(src.Ref, "/")
	return repoRef{Owner: owner, Name: name, DefaultBranch: m.DefaultBranch, Installation: m.Installation}, m, nil
}

// errCommitNotFound: GitHub answers 404 for the commit's archive.
var errCommitNotFound = errors.New("GitHub has no such commit")

// fetcher is the App as the pipeline's GitHub Fetcher.
type fetcher struct{ a *App }

// Fetch downloads the commit's tarball (GitHub answers the API request
// with a redirect to an archive host; the archive is fetched from there
// without the installation token) and extracts it safely into dst. The
// pipeline does the rest (node_modules removed, packages installed).
func (f fetcher) Fetch(ctx context.Context, src deploy.JobSource, sha, dst string) (deploy.Fetched, error) {
	a := f.a
	r, _, err := repoOf(src)
	if err != nil {
		return deploy.Fetched{}, err
	}
	if !validSHA(sha) {
		return deploy.Fetched{}, &deploy.ContentError{Err: fmt.Errorf("commit %q", truncate(sha, 80))}
	}
	u, linkResp, err := a.client(r).Repositories.GetArchiveLink(ctx, r.Owner, r.Name, github.Tarball, &github.RepositoryContentGetOptions{Ref: sha}, 0)
	if err != nil {
		if linkResp != nil && linkResp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", errCommitNotFound, err) // still retried by syncs: GitHub may not serve a new push's commit yet
		}
		return deploy.Fetched{}, fmt.Errorf("tarball link of %s@%s: %w", r.Full(), short(sha), err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return deploy.Fetched{}, fmt.Errorf("tarball of %s@%s: redirect to %q refused", r.Full(), short(sha), u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return deploy.Fetched{}, err
	}
	resp, err := a.opts.Download.Do(req) // no Authorization: the link is signed
	if err != nil {
		// The link's query may hold a download token: name the host only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return deploy.Fetched{}, fmt.Errorf("download tarball of %s@%s from %s: %w", r.Full(), short(sha), u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return deploy.Fetched{}, fmt.Errorf("download tarball of %s@%s: %s", r.Full(), short(sha), resp.Status)
	}
	body := &capped{r: resp.Body, left: a.opts.MaxArchiveBytes}
	st, err := safetar.Extract(body, dst, safetar.Options{StripComponents: 1, Limits: a.opts.Limits})
	if body.over {
		return deploy.Fetched{}, &deploy.ContentError{Err: fmt.Errorf("the commit's archive is larger than %d MiB", a.opts.MaxArchiveBytes>>20)}
	}
	if errors.Is(err, safetar.ErrUnsafe) || errors.Is(err, safetar.ErrTooLarge) {
		return deploy.Fetched{}, &deploy.ContentError{Err: fmt.Errorf("the commit cannot be synced: %w", err)}
	}
	if err != nil {
		return deploy.Fetched{}, fmt.Errorf("extract %s@%s: %w", r.Full(), short(sha), err)
	}
	return deploy.Fetched{Skipped: st.Skipped}, nil
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
