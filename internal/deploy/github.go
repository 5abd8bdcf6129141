package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/store"
)

// RebindGitHub points an environment fed by GitHub at a repository: by
// name and GitHub's numeric id, or by name alone (repoID 0), in which case
// the next push of the repository with that name binds the environment to
// its id. Environments are bound to ids so that a new repository taking a
// freed name never deploys into them; this is how an operator hands an
// environment to a replacement repository on purpose.
func (s *Service) RebindGitHub(ctx context.Context, env, repo string, repoID int64) (store.Source, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || !gitHubName(owner) || !gitHubName(name) || name == "." || name == ".." {
		return store.Source{}, fmt.Errorf("%w: repository %q: write owner/name", ErrInvalid, truncateText(repo, 100))
	}
	if repoID < 0 {
		return store.Source{}, fmt.Errorf("%w: a repository id is a positive number (0: bind on its next push)", ErrInvalid)
	}
	if err := s.db.RebindGitHubSource(ctx, env, repo, repoID); err != nil {
		return store.Source{}, fmt.Errorf("environment %s has no GitHub repository to re-bind: %w", env, err)
	}
	s.log.Info("environment re-bound", "env", env, "repo", repo, "repo_id", repoID)
	return s.db.SourceFor(ctx, env)
}

func gitHubName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
