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
}

// PutGitHubRepo connects (or reconnects) a repository to an installation.
func (q Q) PutGitHubRepo(ctx context.Context, repo string, installationID int64) error {
	_, err := q.exec(ctx, `INSERT INTO github_repos (repo, installation_id, updated_at, removed_at) VALUES (?, ?, ?, 0)
		ON CONFLICT (repo) DO UPDATE SET installation_id = excluded.installation_id, updated_at = excluded.updated_at, removed_at = 0`,
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
	var up, rm int64
	err := q.queryRow(ctx, `SELECT repo, installation_id, updated_at, removed_at FROM github_repos WHERE repo = ?`, repo).
		Scan(&r.Repo, &r.InstallationID, &up, &rm)
	r.UpdatedAt, r.RemovedAt = fromMicros(up), fromMicros(rm)
	return r, notFound(err, "store: github repo "+repo)
}

// GitHubRepos lists the connected repositories, by name.
func (q Q) GitHubRepos(ctx context.Context) ([]GitHubRepo, error) {
	rows, err := q.query(ctx, `SELECT repo, installation_id, updated_at, removed_at FROM github_repos WHERE removed_at = 0 ORDER BY repo`)
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
