package store

import (
	"context"
	"fmt"
	"time"
)

// GitHubRepo is a repository the GitHub App is installed on.
type GitHubRepo struct {
	Repo           string // owner/name
	InstallationID int64
	UpdatedAt      time.Time
	RemovedAt      time.Time // zero while connected
	SuspendedAt    time.Time // zero unless the installation is suspended
}

// Connected: installed, and the installation not suspended.
func (r GitHubRepo) Connected() bool { return r.RemovedAt.IsZero() && r.SuspendedAt.IsZero() }

// PutGitHubRepo connects (or reconnects) a repository to an installation.
func (q Q) PutGitHubRepo(ctx context.Context, repo string, installationID int64) error {
	_, err := q.exec(ctx, `INSERT INTO github_repos (repo, installation_id, updated_at, removed_at, suspended_at) VALUES (?, ?, ?, 0, 0)
		ON CONFLICT (repo) DO UPDATE SET installation_id = excluded.installation_id, updated_at = excluded.updated_at, removed_at = 0, suspended_at = 0`,
		repo, installationID, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: put github repo %s: %w", repo, err)
	}
	return nil
}

// RemoveGitHubRepo marks a repository of an installation disconnected; an
// empty repo disconnects every repository of the installation.
func (q Q) RemoveGitHubRepo(ctx context.Context, installationID int64, repo string) error {
	now := micros(time.Now())
	var err error
	if repo == "" {
		_, err = q.exec(ctx, `UPDATE github_repos SET removed_at = ?, updated_at = ? WHERE installation_id = ? AND removed_at = 0`, now, now, installationID)
	} else {
		_, err = q.exec(ctx, `UPDATE github_repos SET removed_at = ?, updated_at = ? WHERE installation_id = ? AND repo = ? AND removed_at = 0`, now, now, installationID, repo)
	}
	if err != nil {
		return fmt.Errorf("store: remove github repo %q of installation %d: %w", repo, installationID, err)
	}
	return nil
}

// GitHubRepoByName reads one repository (ErrNotFound when never connected).
func (q Q) GitHubRepoByName(ctx context.Context, repo string) (GitHubRepo, error) {
	var r GitHubRepo
	var up, rm, su int64
	err := q.queryRow(ctx, `SELECT repo, installation_id, updated_at, removed_at, suspended_at FROM github_repos WHERE repo = ?`, repo).
		Scan(&r.Repo, &r.InstallationID, &up, &rm, &su)
	r.UpdatedAt, r.RemovedAt, r.SuspendedAt = fromMicros(up), fromMicros(rm), fromMicros(su)
	return r, notFound(err, "store: github repo "+repo)
}

// SuspendGitHubRepos marks (suspended) or unmarks every connected
// repository of an installation; removed ones stay removed.
func (q Q) SuspendGitHubRepos(ctx context.Context, installationID int64, suspended bool) error {
	var at int64
	if suspended {
		at = micros(time.Now())
	}
	_, err := q.exec(ctx, `UPDATE github_repos SET suspended_at = ?, updated_at = ? WHERE installation_id = ? AND removed_at = 0`,
		at, micros(time.Now()), installationID)
	if err != nil {
		return fmt.Errorf("store: suspend (%v) repositories of installation %d: %w", suspended, installationID, err)
	}
	return nil
}

// PutGitHubSource connects an environment to a GitHub repository, bound
// to its id (replacing any previous source).
func (q Q) PutGitHubSource(ctx context.Context, s Source) error {
	_, err := q.exec(ctx, `INSERT INTO sources (env, kind, ref, branch, installation_id, repo_id, updated_at) VALUES (?, 'github', ?, ?, ?, ?, ?)
		ON CONFLICT (env) DO UPDATE SET kind = excluded.kind, ref = excluded.ref, branch = excluded.branch,
		installation_id = excluded.installation_id, repo_id = excluded.repo_id, updated_at = excluded.updated_at`,
		s.Env, s.Ref, s.Branch, s.InstallationID, s.RepoID, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: put source for %s: %w", s.Env, err)
	}
	return nil
}

// RebindGitHubSource points an environment's GitHub source at another
// repository: its name and id, or id 0 for "whichever repository of that
// name pushes next". ErrNotFound when the environment has no GitHub source.
func (q Q) RebindGitHubSource(ctx context.Context, env, repo string, repoID int64) error {
	return q.updateOne(ctx, "GitHub source of "+env, `UPDATE sources SET ref = ?, repo_id = ?, updated_at = ? WHERE env = ? AND kind = 'github'`,
		repo, repoID, micros(time.Now()), env)
}

// GitHubRepos lists the connected repositories, by name.
func (q Q) GitHubRepos(ctx context.Context) ([]GitHubRepo, error) {
	rows, err := q.query(ctx, `SELECT repo, installation_id, updated_at, removed_at FROM github_repos WHERE removed_at = 0 AND suspended_at = 0 ORDER BY repo`)
	if err != nil {
		return nil, fmt.Errorf("store: github repos: %w", err)
	}
	defer rows.Close()
	var out []GitHubRepo
	for rows.Next() {
		var r GitHubRepo
		var up, rm int64
		if err := rows.Scan(&r.Repo, &r.InstallationID, &up, &rm); err != nil {
			return nil, fmt.Errorf("store: github repos: %w", err)
		}
		r.UpdatedAt, r.RemovedAt = fromMicros(up), fromMicros(rm)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ForgetDelivery removes a recorded delivery id: its job could not be
// queued, so a redelivery must be accepted.
func (q Q) ForgetDelivery(ctx context.Context, deliveryID string) error {
	if _, err := q.exec(ctx, `DELETE FROM webhook_deliveries WHERE delivery_id = ?`, deliveryID); err != nil {
		return fmt.Errorf("store: forget delivery: %w", err)
	}
	return nil
}
