package githubapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/prdiff"
	"github.com/flowgate/flowgate/internal/safetar"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// DefaultEnvironment is where a repository's default branch syncs.
const DefaultEnvironment = "production"

// EnvRule maps pushes to Repo's Branch into environment Env.
type EnvRule struct {
	Repo, Branch, Env string
}

// ParseEnvRules reads FLOWGATE_GITHUB_ENVIRONMENTS:
// "owner/repo@branch=env,owner/other@main=staging".
func ParseEnvRules(s string) ([]EnvRule, error) {
	var out []EnvRule
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		left, env, ok := strings.Cut(part, "=")
		repo, branch, ok2 := strings.Cut(left, "@")
		if !ok || !ok2 || !validRepo(repo) || branch == "" || env == "" || strings.ContainsAny(branch+env, " \t") {
			return nil, fmt.Errorf("environment rule %q: write owner/repo@branch=environment", part)
		}
		if err := workflow.CheckEnvironment(env); err != nil {
			return nil, fmt.Errorf("environment rule %q: %w", part, err)
		}
		out = append(out, EnvRule{Repo: repo, Branch: branch, Env: env})
	}
	return out, nil
}

// Options configure the App.
type Options struct {
	Clients *Clients
	Deploy  *deploy.Service
	// Diff, when set, posts each pull request's behaviour diff (the
	// "Behaviour diff" check run) and answers /diff and its button.
	Diff *prdiff.Differ
	// Environments map repositories' branches to environments; with no
	// rule for a repository, its default branch syncs into production.
	Environments []EnvRule
	// MinPermission a commenter needs for slash commands that change
	// something: write (default), maintain or admin.
	MinPermission string
	// PublicURL is where people reach Flowgate (links to full logs).
	PublicURL string
	// WorkDir held the commits being synced.
	//
	// Deprecated: snapshots live under deploy.Options.DataDir; the App
	// ignores it.
	WorkDir string
	// Download fetches archives from the host GitHub redirects to; it
	// never carries a token (default: a bounded client).
	Download *http.Client
	// Limits bound an extracted commit.
	Limits safetar.Limits
	// MaxArchiveBytes bounds a downloaded (compressed) archive (default 64 MiB).
	MaxArchiveBytes int64
	Log             *slog.Logger
}

// App handles webhook deliveries: it syncs pushes, checks pull requests,
// answers slash commands and records GitHub Deployments.
type App struct {
	opts Options
	log  *slog.Logger
}

// New checks opts and returns an App.
func New(opts Options) (*App, error) {
	if opts.Clients == nil || opts.Deploy == nil {
		return nil, errors.New("githubapp: Clients and Deploy are required")
	}
	switch opts.MinPermission {
	case "":
		opts.MinPermission = "write"
	case "write", "maintain", "admin":
	default:
		return nil, fmt.Errorf("githubapp: minimum permission %q: use write, maintain or admin", opts.MinPermission)
	}
	if opts.Download == nil {
		opts.Download = &http.Client{Timeout: 2 * time.Minute,
			Transport: &retryTransport{base: http.DefaultTransport, policy: RetryPolicy{}.withDefaults()}}
	}
	if opts.MaxArchiveBytes <= 0 {
		opts.MaxArchiveBytes = 64 << 20
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	a := &App{opts: opts, log: opts.Log}
	// GitHub's part of the sync pipeline: fetch tarballs, report check runs.
	opts.Deploy.RegisterSource(SourceKind, fetcher{a}, reporter{a})
	return a, nil
}

// Handle acts on one delivery. Errors are retried by the job; a
// *badPayloadError is not.
func (a *App) Handle(ctx context.Context, d DeliveryArgs) error {
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = time.Now().UTC()
	}
	h := eventHandlers[d.Event]
	if h == nil {
		return nil
	}
	ev, err := github.ParseWebHook(d.Event, d.Payload)
	// A timestamp go-github cannot parse fails the whole payload.
	if _, badTime := errors.AsType[*time.ParseError](err); badTime {
		payload, terr := withoutTimes(d.Payload)
		if terr != nil {
			return badPayload("%s: %v", d.Event, terr)
		}
		ev, err = github.ParseWebHook(d.Event, payload)
	}
	if err != nil {
		return badPayload("%s: %v", d.Event, err)
	}
	return h.Handle(ctx, a, d, ev)
}

// repoRef is a repository as the handlers need it. ID is GitHub's
// numeric repository id: names change and are reused, the id is not.
type repoRef struct {
	Owner, Name, DefaultBranch string
	Installation               int64
	ID                         int64
}

func (r repoRef) Full() string { return r.Owner + "/" + r.Name }

func validRepo(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	return ok && validToken(owner, 100) && validToken(name, 100) && name != "." && name != ".."
}

// envFor says which environment a push to branch syncs into ("" when
// none), following the rules, else the default branch → production.
func (a *App) envFor(r repoRef, branch string) string {
	ruled := false
	for _, rule := range a.opts.Environments {
		if strings.EqualFold(rule.Repo, r.Full()) {
			ruled = true
			if rule.Branch == branch {
				return rule.Env
			}
		}
	}
	if !ruled && branch != "" && branch == r.DefaultBranch {
		return DefaultEnvironment
	}
	return ""
}

// commandEnv is the environment slash commands and buttons act on: the
// one the default branch syncs into (or the repository's first rule).
func (a *App) commandEnv(r repoRef) string {
	if env := a.envFor(r, r.DefaultBranch); env != "" {
		return env
	}
	for _, rule := range a.opts.Environments {
		if strings.EqualFold(rule.Repo, r.Full()) {
			return rule.Env
		}
	}
	return ""
}

// claimEnv connects env to the repository, unless another repository
// already owns it (then the error says so, for the check run). The
// binding is to the repository's id: after a rename or a transfer the
// same repository keeps its environment (under its new name), and a new
// repository that takes a freed name does not get it.
func (a *App) claimEnv(ctx context.Context, env string, r repoRef, branch string) error {
	d := a.opts.Deploy
	src, err := d.SourceFor(ctx, env)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case src.Kind == "github" && !owns(src, r):
		return &envTakenError{env: env, owner: src.Ref, sameName: strings.EqualFold(src.Ref, r.Full())}
	}
	if err := a.opts.Deploy.EnsureEnvironment(ctx, env); err != nil {
		return err
	}
	return d.ConnectGitHubSource(ctx, store.Source{Env: env, Ref: r.Full(), Branch: branch, InstallationID: r.Installation, RepoID: r.ID})
}

// owns says whether a GitHub source belongs to the repository: by id once
// bound; by name only while unbound (created before ids were kept, or
// re-bound by name through the API), and then the next claim binds it.
func owns(src store.Source, r repoRef) bool {
	if src.RepoID != 0 {
		return r.ID != 0 && src.RepoID == r.ID
	}
	return strings.EqualFold(src.Ref, r.Full())
}

type envTakenError struct {
	env, owner string
	sameName   bool // a different repository under the bound one's old name
}

func (e *envTakenError) Error() string {
	if e.sameName {
		return fmt.Sprintf("environment %q belongs to the repository that was called %s, and this is another repository under that name (a new repository, or one that took the name after a rename or transfer); if it replaces the old one, re-bind the environment (PUT /api/v1/environments/%s/github-repository)", e.env, e.owner, e.env)
	}
	return fmt.Sprintf("environment %q is connected to repository %s; map this repository to another environment (FLOWGATE_GITHUB_ENVIRONMENTS)", e.env, e.owner)
}

// connected reports whether the App may act on the repository: it is
// recorded as installed, or — when its installation event was never seen
// — a delivery for it proves the installation (then it is recorded).
func (a *App) connected(ctx context.Context, r repoRef) (bool, error) {
	d := a.opts.Deploy
	rec, err := d.GitHubRepo(ctx, r.Full())
	switch {
	case errors.Is(err, store.ErrNotFound):
		if r.Installation == 0 {
			return false, nil
		}
		return true, d.ConnectGitHubRepo(ctx, r.Full(), r.Installation)
	case err != nil:
		return false, err
	}
	return rec.Connected(), nil
}

func (a *App) client(r repoRef) *github.Client { return a.opts.Clients.Installation(r.Installation) }

func repoFrom(repo *github.Repository, inst *github.Installation) (repoRef, error) {
	if repo == nil || repo.GetOwner() == nil || inst == nil || inst.GetID() == 0 {
		return repoRef{}, badPayload("no repository or installation")
	}
	r := repoRef{Owner: repo.GetOwner().GetLogin(), Name: repo.GetName(), DefaultBranch: repo.GetDefaultBranch(), Installation: inst.GetID(), ID: repo.GetID()}
	if !validRepo(r.Full()) {
		return repoRef{}, badPayload("repository %q", truncate(r.Full(), 200))
	}
	return r, nil
}

// withoutTimes drops every timestamp field ("…_at", "timestamp") from a
// payload go-github refused: none is used, and go-github refuses a whole
// payload over one timestamp it cannot parse (GitHub's own examples
// carry "2018-04-25 20:42:10").
func withoutTimes(payload []byte) ([]byte, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // ids stay exact
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if strings.HasSuffix(k, "_at") || k == "timestamp" {
					delete(t, k)
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}
