package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/githubapp"
	"github.com/flowgate/flowgate/internal/httpjson"
)

// resyncRoutes adds POST /api/v1/environments/{env}/sync when the GitHub
// integration is on: the environment's last synced commit is synced
// again as it is (the API form of the /sync slash command), so "sync
// again" after deleting or deactivating a workflow needs no new commit.
// It answers once the sync has run; the admin token is required.
func (a *App) resyncRoutes(routes map[string]http.Handler) map[string]http.Handler {
	if a.github == nil {
		return routes
	}
	if routes == nil {
		routes = map[string]http.Handler{}
	}
	routes["POST /api/v1/environments/{env}/sync"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || a.adminToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(a.adminToken)) != 1 {
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "the admin token is required")
			return
		}
		env := r.PathValue("env")
		// The sync runs to its end even if the caller goes away.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), resyncTimeout)
		defer cancel()
		sha, err := a.github.app.SyncAgain(ctx, env)
		switch {
		case errors.Is(err, githubapp.ErrNotGitHub):
			httpjson.Error(w, http.StatusNotFound, "not_found", err.Error())
		case errors.Is(err, githubapp.ErrNothingSynced):
			httpjson.Error(w, http.StatusConflict, "conflict", githubapp.ErrNothingSynced.Error())
		case err != nil:
			a.log.Error("sync again", "env", env, "err", err)
			httpjson.Error(w, http.StatusInternalServerError, "internal", "the sync could not run; try again")
		default:
			httpjson.Write(w, http.StatusOK, map[string]string{"env": env, "commitSha": sha})
		}
	})
	return routes
}

// resyncTimeout bounds one API re-sync (a sync job's own bound).
const resyncTimeout = 10 * time.Minute

// syncAgain is the console's "Sync again": SyncAgain with its refusals as
// the domain errors the console shows.
func (a *App) syncAgain(ctx context.Context, env string) (string, error) {
	sha, err := a.github.app.SyncAgain(ctx, env)
	switch {
	case errors.Is(err, githubapp.ErrNotGitHub):
		return "", fmt.Errorf("%w (%w)", githubapp.ErrNotGitHub, deploy.ErrNotFound)
	case errors.Is(err, githubapp.ErrNothingSynced):
		return "", fmt.Errorf("%w (%w)", githubapp.ErrNothingSynced, deploy.ErrConflict)
	}
	return sha, err
}
