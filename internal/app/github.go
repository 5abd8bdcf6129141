package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/riverqueue/river"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/githubapp"
	"github.com/flowgate/flowgate/internal/prdiff"
	"github.com/flowgate/flowgate/internal/secrets"
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
	// Pull requests' behaviour diffs replay in the same sandbox as triggers.
	differ, err := prdiff.New(prdiff.Options{Source: a.deploy, Runner: a.runner})
	if err != nil {
		return nil, err
	}
	opts := githubapp.Options{
		Clients: clients, Deploy: a.deploy, Diff: differ, Inspector: a.runner, Environments: rules,
		MinPermission: env("GITHUB_MIN_PERMISSION"),
		PublicURL:     cfg.PublicURL, Log: a.log.With("component", "github"),
	}
	gh, err := githubapp.New(opts)
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

// loadStoredGitHubApp turns the integration on with the credentials the
// setup page stored, when the FLOWGATE_GITHUB_* settings do not name an
// App (those always win).
func loadStoredGitHubApp(cfg *Config) error {
	if cfg.GitHub() {
		return nil
	}
	stored, ok, err := githubapp.LoadStoredApp(cfg.DataDir)
	if err != nil || !ok {
		return err
	}
	cfg.GitHubAppID, cfg.GitHubPrivateKey, cfg.GitHubWebhookSecret = stored.AppID, stored.PrivateKey, stored.WebhookSecret
	return nil
}

// githubSetupRoutes serves the App manifest flow when FLOWGATE_GITHUB_SETUP
// is set and no App is configured yet. Its link carries a random state
// printed only here, so only whoever reads this console can create the
// App that Flowgate will trust.
func (a *App) githubSetupRoutes() (map[string]http.Handler, error) {
	if a.cfg.GitHub() || env("GITHUB_SETUP") == "" {
		return nil, nil
	}
	state, err := secrets.GenerateToken()
	if err != nil {
		return nil, err
	}
	s := &githubapp.Setup{
		State: state, PublicURL: a.cfg.PublicURL, APIURL: a.cfg.GitHubAPIURL, WebURL: env("GITHUB_WEB_URL"),
		Save: func(app githubapp.StoredApp) error {
			if err := githubapp.SaveStoredApp(a.cfg.DataDir, app); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "flowgate: GitHub App %q created; its credentials are in %s (readable by you only). Restart Flowgate to turn the integration on.\n",
				app.Slug, filepath.Join(a.cfg.DataDir, githubapp.StoredAppFile))
			return nil
		},
	}
	base := a.cfg.PublicURL
	if base == "" {
		base = "http://" + a.cfg.Addr
	}
	fmt.Fprintf(a.out, "flowgate: create the GitHub App at %s%s?state=%s\n", strings.TrimSuffix(base, "/"), githubapp.SetupPath, state)
	return map[string]http.Handler{"GET " + githubapp.SetupPath: s, "GET " + githubapp.SetupCallbackPath: s}, nil
}
