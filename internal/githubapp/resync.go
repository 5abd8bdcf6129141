package githubapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// ErrNotGitHub is SyncAgain's answer for an environment that no GitHub
// repository feeds; ErrNothingSynced for one with no synced commit yet.
var (
	ErrNotGitHub     = errors.New("the environment is not fed by a GitHub repository")
	ErrNothingSynced = errors.New("the environment has no synced commit yet: push to its branch first")
)

// SyncAgain is /sync for the management API: env's last synced commit of
// its GitHub repository is synced again as it is. It returns that commit;
// the sync's outcome is in the environment's syncs and the check runs.
func (a *App) SyncAgain(ctx context.Context, env string) (string, error) {
	src, err := a.opts.Deploy.SourceFor(ctx, env)
	if errors.Is(err, store.ErrNotFound) || err == nil && src.Kind != "github" {
		return "", ErrNotGitHub
	}
	if err != nil {
		return "", err
	}
	owner, name, _ := strings.Cut(src.Ref, "/")
	r := repoRef{Owner: owner, Name: name, DefaultBranch: src.Branch, Installation: src.InstallationID, ID: src.RepoID}
	now := time.Now().UTC()
	d := DeliveryArgs{ID: fmt.Sprintf("resync-%s-%d", env, now.UnixNano()), Event: "resync", ReceivedAt: now}
	sha, err := a.lastSynced(ctx, r, env)
	if err != nil || sha == "" {
		return "", errors.Join(err, ErrNothingSynced)
	}
	if _, reaction, err := a.syncAgain(ctx, d, r, env); err != nil {
		return "", err
	} else if reaction != "rocket" {
		return "", ErrNothingSynced
	}
	return sha, nil
}
