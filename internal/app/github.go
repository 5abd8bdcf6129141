package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/riverqueue/river"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/githubapp"
)

// githubParts is the GitHub App inside the service: the webhook endpoint
// and the delivery jobs that act on it.
type githubParts struct {
	webhook http.Handler
	app     *githubapp.App
}

// newGitHubParts builds the GitHub App from the FLOWGATE_GITHUB_* settings:
// installation clients (App JWT → cached installation tokens, retried
// requests), the webhook handler (HMAC, recorded delivery ids, River
// jobs) and the handlers the jobs run. FLOWGATE_GITHUB_ENVIRONMENTS maps
// branches to environments; FLOWGATE_GITHUB_MIN_PERMISSION is what slash
// commands need (write, maintain or admin).
func newGitHubParts(ctx context.Context, a *App) (*githubParts, error) {
	cfg := a.cfg
	clients, err := githubapp.NewClients(cfg.GitHubAppID, []byte(cfg.GitHubPrivateKey), cfg.GitHubAPIURL, nil, githubapp.RetryPolicy{})
	if err != nil {
		return nil, err
	}
	rules, err := githubapp.ParseEnvRules(env("GITHUB_ENVIRONMENTS"))
	if err != nil {
		return nil, fmt.Errorf("FLOWGATE_GITHUB_ENVIRONMENTS: %w", err)
	}
	gh, err := githubapp.New(githubapp.Options{
		Clients: clients, Deploy: a.deploy, Inspector: a.runner, Environments: rules,
		MinPermission: env("GITHUB_MIN_PERMISSION"),
		NPMRegistry:   cfg.NPMRegistry, NPMAllow: cfg.NPMAllow, NPMCacheDir: filepath.Join(cfg.DataDir, "npm-cache"),
		PublicURL: cfg.PublicURL, Log: a.log.With("component", "github"),
	})
	if err != nil {
		return nil, err
	}
	q := &githubapp.RiverQueue{Jobs: lateJobs{a}, Store: a.db}
	hook, err := githubapp.NewWebhookHandler([]byte(cfg.GitHubWebhookSecret), q, a.log.With("component", "webhook"))
	if err != nil {
		return nil, err
	}
	return &githubParts{webhook: hook, app: gh}, nil
}

func (g *githubParts) register(o *deploy.JobsOptions) { g.app.Register(o) }

// lateJobs reaches the job queue, which is made after the GitHub parts
// (its workers include theirs).
type lateJobs struct{ a *App }

func (l lateJobs) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (deploy.EnqueueResult, error) {
	if l.a.jobs == nil {
		return deploy.EnqueueResult{}, fmt.Errorf("the job queue is not open yet")
	}
	return l.a.jobs.Enqueue(ctx, args, opts)
}
