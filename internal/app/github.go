package app

import (
	"context"
	"net/http"

	"github.com/flowgate/flowgate/internal/deploy"
)

// githubParts is the GitHub App inside the service: the webhook endpoint
// and the delivery jobs that act on it.
type githubParts struct {
	webhook http.Handler
}

func newGitHubParts(ctx context.Context, a *App) (*githubParts, error) {
	return &githubParts{webhook: http.NotFoundHandler()}, nil
}

func (g *githubParts) register(o *deploy.JobsOptions) {}
