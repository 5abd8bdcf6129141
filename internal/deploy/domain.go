package deploy

import (
	"context"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// The domain calls the HTTP layer and the GitHub App need besides the
// deployment lifecycle, so that nothing outside deploy reaches into the
// store.

// Environments lists every environment by name.
func (s *Service) Environments(ctx context.Context) ([]Environment, error) {
	return s.db.Environments(ctx)
}

// RuntimeLogs reads runtime log rows (newest first, filtered by q).
func (s *Service) RuntimeLogs(ctx context.Context, q store.LogQuery) ([]store.RuntimeLog, error) {
	return s.db.RuntimeLogs(ctx, q)
}

// AppendRuntimeLogs writes a batch of runtime log rows in one transaction.
func (s *Service) AppendRuntimeLogs(ctx context.Context, batch []store.RuntimeLog) error {
	return s.db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, batch) })
}

// Ready checks the database answers and carries this binary's schema.
func (s *Service) Ready(ctx context.Context) error {
	_, err := s.db.SchemaVersion(ctx)
	return err
}

// SourceFor is the repository (or directory) an environment syncs from;
// ErrNotFound when it has never synced.
func (s *Service) SourceFor(ctx context.Context, env string) (store.Source, error) {
	return s.db.SourceFor(ctx, env)
}

// Ping checks the database answers.
func (s *Service) Ping(ctx context.Context) error { return s.db.SQL().PingContext(ctx) }

// ConsoleLogs reads the runtime log rows the console lists.
func (s *Service) ConsoleLogs(ctx context.Context, q store.OutcomeQuery) ([]store.RuntimeLog, error) {
	return s.db.ConsoleLogs(ctx, q)
}

// OutcomeStats counts an environment's runs by outcome, per bucket since a time.
func (s *Service) OutcomeStats(ctx context.Context, env string, since time.Time, bucket time.Duration) ([]store.OutcomeStat, error) {
	return s.db.OutcomeStats(ctx, env, since, bucket)
}

// FailureKinds counts an environment's failures of the given kinds since a time.
func (s *Service) FailureKinds(ctx context.Context, env string, since time.Time, kinds []string) (map[string]int, error) {
	return s.db.FailureKinds(ctx, env, since, kinds)
}

// ConnectGitHubSource makes a GitHub repository the source of an environment.
func (s *Service) ConnectGitHubSource(ctx context.Context, src store.Source) error {
	return s.db.PutGitHubSource(ctx, src)
}

// GitHubRepo is the App's record of a repository, by full name.
func (s *Service) GitHubRepo(ctx context.Context, repo string) (store.GitHubRepo, error) {
	return s.db.GitHubRepoByName(ctx, repo)
}

// ConnectGitHubRepo records a repository as installed under an installation.
func (s *Service) ConnectGitHubRepo(ctx context.Context, repo string, installationID int64) error {
	return s.db.PutGitHubRepo(ctx, repo, installationID)
}

// DisconnectGitHubRepo marks a repository of an installation disconnected
// (all of them when repo is empty).
func (s *Service) DisconnectGitHubRepo(ctx context.Context, installationID int64, repo string) error {
	return s.db.RemoveGitHubRepo(ctx, installationID, repo)
}

// SuspendGitHubRepos suspends (or resumes) an installation's repositories.
func (s *Service) SuspendGitHubRepos(ctx context.Context, installationID int64, suspended bool) error {
	return s.db.SuspendGitHubRepos(ctx, installationID, suspended)
}

// PutInstallation records a GitHub App installation.
func (s *Service) PutInstallation(ctx context.Context, in store.Installation) error {
	return s.db.PutInstallation(ctx, in)
}

// DeleteInstallation forgets a GitHub App installation.
func (s *Service) DeleteInstallation(ctx context.Context, id int64) error {
	return s.db.DeleteInstallation(ctx, id)
}
