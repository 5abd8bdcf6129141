package app

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

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

// newGitHubApp builds the GitHub App from the FLOWGATE_GITHUB_* settings:
// installation clients (App JWT → cached installation tokens, retried
// requests) and the handlers the delivery jobs run.
// FLOWGATE_GITHUB_ENVIRONMENTS maps branches to environments;
// FLOWGATE_GITHUB_MIN_PERMISSION is what slash commands need (write,
// maintain or admin).
func newGitHubApp(a *App) (*githubapp.App, error) {
	cfg := a.cfg
	clients, err := githubapp.NewClients(cfg.GitHubAppID, []byte(cfg.GitHubPrivateKey), cfg.GitHubAPIURL, nil, githubapp.RetryPolicy{})
	if err != nil {
		return nil, err
	}
	rules, err := githubapp.ParseEnvRules(cfg.GitHubEnvironments)
	if err != nil {
		return nil, fmt.Errorf("FLOWGATE_GITHUB_ENVIRONMENTS: %w", err)
	}
	// Pull requests' behaviour diffs replay in the same sandbox as triggers.
	differ, err := prdiff.New(prdiff.Options{Source: a.deploy, Runner: a.runner})
	if err != nil {
		return nil, err
	}
	opts := githubapp.Options{
		Clients: clients, Deploy: a.deploy, Diff: differ, Environments: rules,
		MinPermission: cfg.GitHubMinPermission,
		PublicURL:     cfg.PublicURL, Log: a.log.With("component", "github"),
	}
	return githubapp.New(opts)
}

// newGitHubParts adds the webhook endpoint (HMAC, recorded delivery ids)
// to the App; it queues deliveries into the open job queue.
func newGitHubParts(a *App, gh *githubapp.App) (*githubParts, error) {
	q := &githubapp.RiverQueue{Jobs: a.jobs, Store: a.db}
	hook, err := githubapp.NewWebhookHandler([]byte(a.cfg.GitHubWebhookSecret), q, a.log.With("component", "webhook"))
	if err != nil {
		return nil, err
	}
	return &githubParts{webhook: hook, app: gh}, nil
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
	if a.cfg.GitHub() || !a.cfg.GitHubSetup {
		return nil, nil
	}
	state, err := secrets.GenerateToken()
	if err != nil {
		return nil, err
	}
	s := &githubapp.Setup{
		State: state, PublicURL: a.cfg.PublicURL, APIURL: a.cfg.GitHubAPIURL, WebURL: a.cfg.GitHubWebURL,
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
