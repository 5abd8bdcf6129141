package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// notFound maps sql.ErrNoRows to ErrNotFound with context.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ---- environments ----

// EnsureEnvironment creates the environment (preview mode off) unless it exists.
func (q Q) EnsureEnvironment(ctx context.Context, name string) error {
	_, err := q.exec(ctx, `INSERT INTO environments (name, preview_mode, runtime_token_hash, created_at)
		VALUES (?, ?, '', ?) ON CONFLICT (name) DO NOTHING`, name, false, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: ensure environment %q: %w", name, err)
	}
	_, err = q.exec(ctx, `INSERT INTO live_versions (env, version) VALUES (?, 0) ON CONFLICT (env) DO NOTHING`, name)
	if err != nil {
		return fmt.Errorf("store: ensure environment %q: %w", name, err)
	}
	return nil
}

const envCols = `name, preview_mode, runtime_token_hash, created_at`

func scanEnv(s interface{ Scan(...any) error }) (Environment, error) {
	var e Environment
	var created int64
	err := s.Scan(&e.Name, &e.PreviewMode, &e.RuntimeTokenHash, &created)
	e.CreatedAt = fromMicros(created)
	return e, err
}

// Environment reads one environment.
func (q Q) Environment(ctx context.Context, name string) (Environment, error) {
	e, err := scanEnv(q.queryRow(ctx, `SELECT `+envCols+` FROM environments WHERE name = ?`, name))
	return e, notFound(err, "store: environment "+name)
}

// Environments lists every environment by name.
func (q Q) Environments(ctx context.Context) ([]Environment, error) {
	rows, err := q.query(ctx, `SELECT `+envCols+` FROM environments ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list environments: %w", err)
	}
	return collect(rows, scanEnv)
}

// SetPreviewMode turns preview mode on or off.
func (q Q) SetPreviewMode(ctx context.Context, env string, on bool) error {
	return q.updateOne(ctx, "environment "+env, `UPDATE environments SET preview_mode = ? WHERE name = ?`, on, env)
}

// SetRuntimeTokenHash stores the hash of the environment's runtime token.
func (q Q) SetRuntimeTokenHash(ctx context.Context, env, hash string) error {
	return q.updateOne(ctx, "environment "+env, `UPDATE environments SET runtime_token_hash = ? WHERE name = ?`, hash, env)
}

// updateOne runs an UPDATE/DELETE that must touch a row, else ErrNotFound.
func (q Q) updateOne(ctx context.Context, what, query string, args ...any) error {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}

// ---- sources and GitHub bookkeeping ----

// PutSource connects an environment to a source (replacing the previous one).
func (q Q) PutSource(ctx context.Context, s Source) error {
	_, err := q.exec(ctx, `INSERT INTO sources (env, kind, ref, branch, installation_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (env) DO UPDATE SET kind = excluded.kind, ref = excluded.ref, branch = excluded.branch,
		installation_id = excluded.installation_id, updated_at = excluded.updated_at`,
		s.Env, s.Kind, s.Ref, s.Branch, s.InstallationID, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: put source for %s: %w", s.Env, err)
	}
	return nil
}

// SourceFor reads an environment's source, with the GitHub repository id
// it is bound to (0: none yet).
func (q Q) SourceFor(ctx context.Context, env string) (Source, error) {
	var s Source
	var up int64
	err := q.queryRow(ctx, `SELECT env, kind, ref, branch, installation_id, repo_id, updated_at FROM sources WHERE env = ?`, env).
		Scan(&s.Env, &s.Kind, &s.Ref, &s.Branch, &s.InstallationID, &s.RepoID, &up)
	s.UpdatedAt = fromMicros(up)
	return s, notFound(err, "store: source for "+env)
}

// PutInstallation records (or revives) a GitHub App installation.
func (q Q) PutInstallation(ctx context.Context, in Installation) error {
	_, err := q.exec(ctx, `INSERT INTO github_installations (id, account, created_at, deleted_at) VALUES (?, ?, ?, 0)
		ON CONFLICT (id) DO UPDATE SET account = excluded.account, deleted_at = 0`,
		in.ID, in.Account, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: put installation %d: %w", in.ID, err)
	}
	return nil
}

// DeleteInstallation marks an installation removed.
func (q Q) DeleteInstallation(ctx context.Context, id int64) error {
	return q.updateOne(ctx, fmt.Sprintf("installation %d", id),
		`UPDATE github_installations SET deleted_at = ? WHERE id = ?`, micros(time.Now()), id)
}

// Installation reads one installation.
func (q Q) Installation(ctx context.Context, id int64) (Installation, error) {
	var in Installation
	var c, d int64
	err := q.queryRow(ctx, `SELECT id, account, created_at, deleted_at FROM github_installations WHERE id = ?`, id).
		Scan(&in.ID, &in.Account, &c, &d)
	in.CreatedAt, in.DeletedAt = fromMicros(c), fromMicros(d)
	return in, notFound(err, fmt.Sprintf("store: installation %d", id))
}

// RecordDelivery remembers a webhook delivery id; it reports false when the
// id was already recorded (a redelivery to ignore).
func (q Q) RecordDelivery(ctx context.Context, deliveryID string, at time.Time) (bool, error) {
	res, err := q.exec(ctx, `INSERT INTO webhook_deliveries (delivery_id, received_at) VALUES (?, ?)
		ON CONFLICT (delivery_id) DO NOTHING`, deliveryID, micros(at))
	if err != nil {
		return false, fmt.Errorf("store: record delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: record delivery: %w", err)
	}
	return n == 1, nil
}

// PruneDeliveries forgets delivery ids received before t.
func (q Q) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM webhook_deliveries WHERE received_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune deliveries: %w", err)
	}
	return res.RowsAffected()
}

// ---- syncs ----

// syncLockClass is the first key of the PostgreSQL advisory locks LockSync
// takes (the two-key lock space, apart from the migration lock's).
const syncLockClass = 0x53594e43 // "SYNC"

// LockSync serialises, until the transaction ends, the transactions that
// start one sync — (env, commit, resync) — so two workers handed it at
// once cannot both see it idle. On SQLite the write lock taken at BEGIN
// already does.
func (q Q) LockSync(ctx context.Context, env, commitSHA, resync string) error {
	if q.dialect != Postgres {
		return nil
	}
	_, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(?))`, int32(syncLockClass), env+"\n"+commitSHA+"\n"+resync)
	if err != nil {
		return fmt.Errorf("store: lock sync of %s@%s: %w", env, commitSHA, err)
	}
	return nil
}

// InsertSync records a sync as it starts (its heartbeat starts with it).
func (q Q) InsertSync(ctx context.Context, s Sync) error {
	log, err := json.Marshal(nonNilLog(s.Log))
	if err != nil {
		return fmt.Errorf("store: insert sync: %w", err)
	}
	hb := s.HeartbeatAt
	if hb.IsZero() {
		hb = s.StartedAt
	}
	_, err = q.exec(ctx, `INSERT INTO syncs (id, env, commit_sha, source, status, requested_at, started_at, finished_at, log, error,
		resync, reason, heartbeat_at, job)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Env, s.CommitSHA, s.Source, s.Status, micros(s.RequestedAt), micros(s.StartedAt), micros(s.FinishedAt), string(log), s.Error,
		s.Resync, s.Reason, micros(hb), string(s.Job))
	if err != nil {
		return fmt.Errorf("store: insert sync %s: %w", s.ID, err)
	}
	return nil
}

// FinishSync records a sync's outcome and log.
func (q Q) FinishSync(ctx context.Context, id, status string, log []SyncLogEntry, errMsg string, at time.Time) error {
	data, err := json.Marshal(nonNilLog(log))
	if err != nil {
		return fmt.Errorf("store: finish sync: %w", err)
	}
	return q.updateOne(ctx, "sync "+id, `UPDATE syncs SET status = ?, log = ?, error = ?, finished_at = ? WHERE id = ?`,
		status, string(data), errMsg, micros(at), id)
}

// ErrNotRunning: the sync is no longer running (it was taken over after
// its heartbeat stopped): its worker must not record an outcome.
var ErrNotRunning = errors.New("sync is no longer running: another worker took it over")

// EndSync moves a running sync to its final (or interrupted) state. It
// fails with ErrNotRunning when the sync was taken over meanwhile, so a
// worker that lost its lease changes nothing.
func (q Q) EndSync(ctx context.Context, id, status, reason string, log []SyncLogEntry, errMsg string, at time.Time) error {
	data, err := json.Marshal(nonNilLog(log))
	if err != nil {
		return fmt.Errorf("store: end sync: %w", err)
	}
	res, err := q.exec(ctx, `UPDATE syncs SET status = ?, reason = ?, log = ?, error = ?, finished_at = ? WHERE id = ? AND status = ?`,
		status, reason, string(data), errMsg, micros(at), id, SyncRunning)
	if err != nil {
		return fmt.Errorf("store: end sync %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("store: end sync %s: %w", id, ErrNotRunning)
	}
	return nil
}

// HeartbeatSync renews a running sync's lease; ErrNotRunning when it was
// taken over.
func (q Q) HeartbeatSync(ctx context.Context, id string, at time.Time) error {
	res, err := q.exec(ctx, `UPDATE syncs SET heartbeat_at = ? WHERE id = ? AND status = ?`, micros(at), id, SyncRunning)
	if err != nil {
		return fmt.Errorf("store: heartbeat of sync %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("store: heartbeat of sync %s: %w", id, ErrNotRunning)
	}
	return nil
}

func nonNilLog(l []SyncLogEntry) []SyncLogEntry {
	if l == nil {
		return []SyncLogEntry{}
	}
	return l
}

const syncCols = `id, env, commit_sha, source, status, requested_at, started_at, finished_at, log, error, resync, reason, heartbeat_at, job`

func scanSync(s interface{ Scan(...any) error }) (Sync, error) {
	var y Sync
	var req, st, fin, hb int64
	var log, job string
	if err := s.Scan(&y.ID, &y.Env, &y.CommitSHA, &y.Source, &y.Status, &req, &st, &fin, &log, &y.Error,
		&y.Resync, &y.Reason, &hb, &job); err != nil {
		return y, err
	}
	y.RequestedAt, y.StartedAt, y.FinishedAt, y.HeartbeatAt = fromMicros(req), fromMicros(st), fromMicros(fin), fromMicros(hb)
	if job != "" {
		y.Job = []byte(job)
	}
	if err := json.Unmarshal([]byte(log), &y.Log); err != nil {
		return y, fmt.Errorf("sync %s log: %w", y.ID, err)
	}
	return y, nil
}

// Sync reads one sync.
func (q Q) Sync(ctx context.Context, id string) (Sync, error) {
	s, err := scanSync(q.queryRow(ctx, `SELECT `+syncCols+` FROM syncs WHERE id = ?`, id))
	return s, notFound(err, "store: sync "+id)
}

// Syncs lists an environment's syncs, newest first.
func (q Q) Syncs(ctx context.Context, env string, limit int) ([]Sync, error) {
	rows, err := q.query(ctx, `SELECT `+syncCols+` FROM syncs WHERE env = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
		env, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list syncs: %w", err)
	}
	return collect(rows, scanSync)
}

// SyncsOf lists every attempt at one sync — (env, commit, resync) — oldest
// first.
func (q Q) SyncsOf(ctx context.Context, env, commitSHA, resync string) ([]Sync, error) {
	rows, err := q.query(ctx, `SELECT `+syncCols+` FROM syncs WHERE env = ? AND commit_sha = ? AND resync = ?
		ORDER BY started_at, id LIMIT 1000`, env, commitSHA, resync)
	if err != nil {
		return nil, fmt.Errorf("store: syncs of %s@%s: %w", env, commitSHA, err)
	}
	return collect(rows, scanSync)
}

// StaleSyncs are the running syncs whose heartbeat is older than cutoff:
// their process died.
func (q Q) StaleSyncs(ctx context.Context, cutoff time.Time) ([]Sync, error) {
	rows, err := q.query(ctx, `SELECT `+syncCols+` FROM syncs WHERE status = ? AND heartbeat_at < ? ORDER BY started_at LIMIT 100`,
		SyncRunning, micros(cutoff))
	if err != nil {
		return nil, fmt.Errorf("store: stale syncs: %w", err)
	}
	return collect(rows, scanSync)
}

// MarkCrashed marks a running sync whose heartbeat is still older than
// cutoff crashed and fails its Processing deployments. Replicas may race:
// exactly one of them gets true.
func (q Q) MarkCrashed(ctx context.Context, id string, cutoff, at time.Time) (bool, error) {
	res, err := q.exec(ctx, `UPDATE syncs SET status = ?, reason = ?, error = ?, finished_at = ? WHERE id = ? AND status = ? AND heartbeat_at < ?`,
		SyncCrashed, ReasonHeartbeat, "the process running this sync stopped (its heartbeat stopped); another worker took it over",
		micros(at), id, SyncRunning, micros(cutoff))
	if err != nil {
		return false, fmt.Errorf("store: mark sync %s crashed: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil // renewed, finished, or marked by another replica
	}
	return true, q.FailProcessing(ctx, id)
}

// FailProcessing fails the deployments a sync left Processing.
func (q Q) FailProcessing(ctx context.Context, syncID string) error {
	if _, err := q.exec(ctx, `UPDATE deployments SET status = ? WHERE status = ? AND sync_id = ?`,
		string(Failed), string(Processing), syncID); err != nil {
		return fmt.Errorf("store: fail deployments of sync %s: %w", syncID, err)
	}
	return nil
}

// ManualFlipSince reports whether a person moved the live pointer of any
// of the workflows (make-live, rollback, deactivate, delete) after since:
// such a flip wins over a sync requested before it.
func (q Q) ManualFlipSince(ctx context.Context, env string, workflowIDs []string, since time.Time) (bool, error) {
	for _, id := range workflowIDs {
		var n int
		err := q.queryRow(ctx, `SELECT COUNT(*) FROM live_history WHERE env = ? AND workflow_id = ? AND action <> ? AND at > ?`,
			env, id, ActionAutoLive, micros(since)).Scan(&n)
		if err != nil {
			return false, fmt.Errorf("store: flips of %s/%s: %w", env, id, err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// NewerSucceededSync reports whether a sync requested after requestedAt has
// already succeeded in env, so an older commit must not take the live
// pointers back.
func (q Q) NewerSucceededSync(ctx context.Context, env string, requestedAt time.Time) (bool, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM syncs WHERE env = ? AND status = ? AND requested_at > ?`,
		env, SyncSucceeded, micros(requestedAt)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: newer syncs: %w", err)
	}
	return n > 0, nil
}

// PutCheckRun remembers a GitHub check run created for a sync.
func (q Q) PutCheckRun(ctx context.Context, syncID, name string, checkRunID int64) error {
	_, err := q.exec(ctx, `INSERT INTO sync_check_runs (sync_id, name, check_run_id) VALUES (?, ?, ?)
		ON CONFLICT (sync_id, name) DO UPDATE SET check_run_id = excluded.check_run_id`, syncID, name, checkRunID)
	if err != nil {
		return fmt.Errorf("store: put check run: %w", err)
	}
	return nil
}

// CheckRuns returns a sync's check run ids by name.
func (q Q) CheckRuns(ctx context.Context, syncID string) (map[string]int64, error) {
	rows, err := q.query(ctx, `SELECT name, check_run_id FROM sync_check_runs WHERE sync_id = ?`, syncID)
	if err != nil {
		return nil, fmt.Errorf("store: check runs: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var n string
		var id int64
		if err := rows.Scan(&n, &id); err != nil {
			return nil, fmt.Errorf("store: check runs: %w", err)
		}
		out[n] = id
	}
	return out, rows.Err()
}

// ---- workflows ----

// UpsertWorkflow creates or updates a workflow and clears Deleted: a
// deleted workflow whose file comes back reappears.
func (q Q) UpsertWorkflow(ctx context.Context, w Workflow) error {
	now := micros(time.Now())
	_, err := q.exec(ctx, `INSERT INTO workflows (env, id, trigger, name, file, deleted, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (env, id) DO UPDATE SET trigger = excluded.trigger, name = excluded.name, file = excluded.file,
		deleted = excluded.deleted, updated_at = excluded.updated_at`,
		w.Env, w.ID, w.Trigger, w.Name, w.File, false, now, now)
	if err != nil {
		return fmt.Errorf("store: upsert workflow %s/%s: %w", w.Env, w.ID, err)
	}
	return nil
}

const wfCols = `env, id, trigger, name, file, deleted, created_at, updated_at`

func scanWorkflow(s interface{ Scan(...any) error }) (Workflow, error) {
	var w Workflow
	var c, u int64
	err := s.Scan(&w.Env, &w.ID, &w.Trigger, &w.Name, &w.File, &w.Deleted, &c, &u)
	w.CreatedAt, w.UpdatedAt = fromMicros(c), fromMicros(u)
	return w, err
}

// Workflow reads one workflow (deleted ones too).
func (q Q) Workflow(ctx context.Context, env, id string) (Workflow, error) {
	w, err := scanWorkflow(q.queryRow(ctx, `SELECT `+wfCols+` FROM workflows WHERE env = ? AND id = ?`, env, id))
	return w, notFound(err, "store: workflow "+env+"/"+id)
}

// Workflows lists an environment's workflows by id.
func (q Q) Workflows(ctx context.Context, env string, includeDeleted bool) ([]Workflow, error) {
	query := `SELECT ` + wfCols + ` FROM workflows WHERE env = ?`
	args := []any{env}
	if !includeDeleted {
		query += ` AND deleted = ?`
		args = append(args, false)
	}
	rows, err := q.query(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list workflows: %w", err)
	}
	return collect(rows, scanWorkflow)
}

// MarkWorkflowDeleted sets Deleted (history is kept).
func (q Q) MarkWorkflowDeleted(ctx context.Context, env, id string) error {
	return q.updateOne(ctx, "workflow "+env+"/"+id,
		`UPDATE workflows SET deleted = ?, updated_at = ? WHERE env = ? AND id = ?`, true, micros(time.Now()), env, id)
}

// ---- deployments ----

// InsertDeployment records a deployment.
func (q Q) InsertDeployment(ctx context.Context, d Deployment) error {
	settings := string(d.Settings)
	if settings == "" {
		settings = "{}"
	}
	_, err := q.exec(ctx, `INSERT INTO deployments (id, env, workflow_id, status, bundle_digest, source_map_digest,
		settings, commit_sha, sync_id, file, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.Env, d.WorkflowID, string(d.Status), d.BundleDigest, d.SourceMapDigest, settings,
		d.CommitSHA, d.SyncID, d.File, micros(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: insert deployment %s: %w", d.ID, err)
	}
	return nil
}

const depCols = `id, env, workflow_id, status, bundle_digest, source_map_digest, settings, commit_sha, sync_id, file, created_at, preview_password_hash`

func scanDeployment(s interface{ Scan(...any) error }) (Deployment, error) {
	var d Deployment
	var status, settings, pw string
	var c int64
	err := s.Scan(&d.ID, &d.Env, &d.WorkflowID, &status, &d.BundleDigest, &d.SourceMapDigest, &settings,
		&d.CommitSHA, &d.SyncID, &d.File, &c, &pw)
	d.Status, d.Settings, d.CreatedAt, d.HasPreviewPassword = Status(status), json.RawMessage(settings), fromMicros(c), pw != ""
	return d, err
}

// Deployment reads one deployment.
func (q Q) Deployment(ctx context.Context, id string) (Deployment, error) {
	d, err := scanDeployment(q.queryRow(ctx, `SELECT `+depCols+` FROM deployments WHERE id = ?`, id))
	return d, notFound(err, "store: deployment "+id)
}

// Deployments lists a workflow's deployments, newest first.
func (q Q) Deployments(ctx context.Context, env, workflowID string, limit int) ([]Deployment, error) {
	rows, err := q.query(ctx, `SELECT `+depCols+` FROM deployments WHERE env = ? AND workflow_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, env, workflowID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list deployments: %w", err)
	}
	return collect(rows, scanDeployment)
}

// DeploymentsOfSync lists the deployments one sync created, oldest first.
func (q Q) DeploymentsOfSync(ctx context.Context, syncID string) ([]Deployment, error) {
	rows, err := q.query(ctx, `SELECT `+depCols+` FROM deployments WHERE sync_id = ? ORDER BY created_at, id`, syncID)
	if err != nil {
		return nil, fmt.Errorf("store: deployments of sync %s: %w", syncID, err)
	}
	return collect(rows, scanDeployment)
}

// DeploymentsWithStatus lists an environment's deployments in a status.
func (q Q) DeploymentsWithStatus(ctx context.Context, env string, st Status) ([]Deployment, error) {
	rows, err := q.query(ctx, `SELECT `+depCols+` FROM deployments WHERE env = ? AND status = ? ORDER BY created_at, id`,
		env, string(st))
	if err != nil {
		return nil, fmt.Errorf("store: list deployments: %w", err)
	}
	return collect(rows, scanDeployment)
}

// SetDeploymentStatus moves a deployment to a status.
func (q Q) SetDeploymentStatus(ctx context.Context, id string, st Status) error {
	return q.updateOne(ctx, "deployment "+id, `UPDATE deployments SET status = ? WHERE id = ?`, string(st), id)
}

// SetDeploymentArtifacts records a deployment's digests.
func (q Q) SetDeploymentArtifacts(ctx context.Context, id, bundle, sourceMap string) error {
	return q.updateOne(ctx, "deployment "+id,
		`UPDATE deployments SET bundle_digest = ?, source_map_digest = ? WHERE id = ?`, bundle, sourceMap, id)
}

// SetPreviewPasswordHash stores a deployment's preview password hash and
// clears its failure count.
func (q Q) SetPreviewPasswordHash(ctx context.Context, id, hash string) error {
	return q.updateOne(ctx, "deployment "+id, `UPDATE deployments SET preview_password_hash = ?,
		preview_failures = 0, preview_window_start = 0 WHERE id = ?`, hash, id)
}

// PreviewGuard is a deployment's preview password hash and recent failures.
type PreviewGuard struct {
	Hash        string
	Failures    int
	WindowStart time.Time
}

// PreviewGuard reads a deployment's preview password state.
func (q Q) PreviewGuard(ctx context.Context, id string) (PreviewGuard, error) {
	var g PreviewGuard
	var ws int64
	err := q.queryRow(ctx, `SELECT preview_password_hash, preview_failures, preview_window_start FROM deployments WHERE id = ?`, id).
		Scan(&g.Hash, &g.Failures, &ws)
	g.WindowStart = fromMicros(ws)
	return g, notFound(err, "store: deployment "+id)
}

// ReservePreviewAttempt counts one preview-password attempt before it is
// checked and returns the attempts in the current window, this one
// included (after the window it starts a new one). It is one UPDATE …
// RETURNING, so attempts made at the same time, on any replica, each see
// the others: none slips past the limit together.
func (q Q) ReservePreviewAttempt(ctx context.Context, id string, now time.Time, window time.Duration) (int, error) {
	cutoff := micros(now.Add(-window))
	var n int
	err := q.queryRow(ctx, `UPDATE deployments SET
		preview_failures = CASE WHEN preview_window_start < ? THEN 1 ELSE preview_failures + 1 END,
		preview_window_start = CASE WHEN preview_window_start < ? THEN ? ELSE preview_window_start END
		WHERE id = ? RETURNING preview_failures`, cutoff, cutoff, micros(now), id).Scan(&n)
	return n, notFound(err, "store: deployment "+id)
}

// ResetPreviewFailures clears the failure count after a correct password.
func (q Q) ResetPreviewFailures(ctx context.Context, id string) error {
	return q.updateOne(ctx, "deployment "+id,
		`UPDATE deployments SET preview_failures = 0, preview_window_start = 0 WHERE id = ?`, id)
}

// ---- live pointers ----

// LivePointer returns the deployment live for a workflow, or "" when none.
func (q Q) LivePointer(ctx context.Context, env, workflowID string) (string, error) {
	var id string
	err := q.queryRow(ctx, `SELECT deployment_id FROM live WHERE env = ? AND workflow_id = ?`, env, workflowID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: live pointer %s/%s: %w", env, workflowID, err)
	}
	return id, nil
}

// LiveWorkflowForTrigger returns the workflow live for a trigger, or "".
func (q Q) LiveWorkflowForTrigger(ctx context.Context, env, trigger string) (string, error) {
	var id string
	err := q.queryRow(ctx, `SELECT workflow_id FROM live WHERE env = ? AND trigger = ?`, env, trigger).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: live trigger %s/%s: %w", env, trigger, err)
	}
	return id, nil
}

// SetLive points a workflow's live pointer at a deployment.
func (q Q) SetLive(ctx context.Context, env, workflowID, trigger, deploymentID string) error {
	_, err := q.exec(ctx, `INSERT INTO live (env, workflow_id, trigger, deployment_id, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (env, workflow_id) DO UPDATE SET trigger = excluded.trigger, deployment_id = excluded.deployment_id,
		updated_at = excluded.updated_at`, env, workflowID, trigger, deploymentID, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: set live %s/%s: %w", env, workflowID, err)
	}
	return nil
}

// ClearLive removes a workflow's live pointer.
func (q Q) ClearLive(ctx context.Context, env, workflowID string) error {
	_, err := q.exec(ctx, `DELETE FROM live WHERE env = ? AND workflow_id = ?`, env, workflowID)
	if err != nil {
		return fmt.Errorf("store: clear live %s/%s: %w", env, workflowID, err)
	}
	return nil
}

// LiveDeployments lists what the runtime API serves in an environment.
func (q Q) LiveDeployments(ctx context.Context, env string) ([]LiveDeployment, error) {
	rows, err := q.query(ctx, `SELECT l.env, l.trigger, l.workflow_id, d.id, d.bundle_digest, d.source_map_digest, d.settings
		FROM live l JOIN deployments d ON d.id = l.deployment_id WHERE l.env = ? ORDER BY l.trigger`, env)
	if err != nil {
		return nil, fmt.Errorf("store: live deployments %s: %w", env, err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (LiveDeployment, error) {
		var l LiveDeployment
		var settings string
		err := s.Scan(&l.Env, &l.Trigger, &l.WorkflowID, &l.DeploymentID, &l.BundleDigest, &l.SourceMapDigest, &settings)
		l.Settings = json.RawMessage(settings)
		return l, err
	})
}

// LiveVersion is the environment's live-pointer version counter (0 when the
// environment does not exist yet).
func (q Q) LiveVersion(ctx context.Context, env string) (int64, error) {
	var v int64
	err := q.queryRow(ctx, `SELECT version FROM live_versions WHERE env = ?`, env).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: live version %s: %w", env, err)
	}
	return v, nil
}

// BumpLiveVersion increments the counter; call it in every transaction that
// moves a live pointer.
func (q Q) BumpLiveVersion(ctx context.Context, env string) error {
	return q.updateOne(ctx, "live version "+env, `UPDATE live_versions SET version = version + 1 WHERE env = ?`, env)
}

// AppendFlip records a live-pointer move.
func (q Q) AppendFlip(ctx context.Context, f Flip) error {
	at := f.At
	if at.IsZero() {
		at = time.Now()
	}
	_, err := q.exec(ctx, `INSERT INTO live_history (env, workflow_id, from_deployment, to_deployment, action, actor, reason, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, f.Env, f.WorkflowID, f.FromDeployment, f.ToDeployment, f.Action, f.Actor, f.Reason, micros(at))
	if err != nil {
		return fmt.Errorf("store: record flip %s/%s: %w", f.Env, f.WorkflowID, err)
	}
	return nil
}

// Flips lists a workflow's live-pointer history, newest first.
func (q Q) Flips(ctx context.Context, env, workflowID string, limit int) ([]Flip, error) {
	rows, err := q.query(ctx, `SELECT seq, env, workflow_id, from_deployment, to_deployment, action, actor, reason, at
		FROM live_history WHERE env = ? AND workflow_id = ? ORDER BY seq DESC LIMIT ?`, env, workflowID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: flips: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (Flip, error) {
		var f Flip
		var at int64
		err := s.Scan(&f.Seq, &f.Env, &f.WorkflowID, &f.FromDeployment, &f.ToDeployment, &f.Action, &f.Actor, &f.Reason, &at)
		f.At = fromMicros(at)
		return f, err
	})
}

// ---- variables ----

// PutVariable creates or replaces a variable.
func (q Q) PutVariable(ctx context.Context, v Variable) error {
	_, err := q.exec(ctx, `INSERT INTO env_variables (env, name, value, is_secret, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (env, name) DO UPDATE SET value = excluded.value, is_secret = excluded.is_secret,
		updated_at = excluded.updated_at`, v.Env, v.Name, nonNilBytes(v.Value), v.Secret, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: put variable %s/%s: %w", v.Env, v.Name, err)
	}
	return nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

const varCols = `env, name, value, is_secret, updated_at`

func scanVariable(s interface{ Scan(...any) error }) (Variable, error) {
	var v Variable
	var u int64
	err := s.Scan(&v.Env, &v.Name, &v.Value, &v.Secret, &u)
	v.UpdatedAt = fromMicros(u)
	return v, err
}

// Variable reads one variable (the stored bytes; sealed when secret).
func (q Q) Variable(ctx context.Context, env, name string) (Variable, error) {
	v, err := scanVariable(q.queryRow(ctx, `SELECT `+varCols+` FROM env_variables WHERE env = ? AND name = ?`, env, name))
	return v, notFound(err, "store: variable "+env+"/"+name)
}

// Variables lists an environment's variables by name.
func (q Q) Variables(ctx context.Context, env string) ([]Variable, error) {
	rows, err := q.query(ctx, `SELECT `+varCols+` FROM env_variables WHERE env = ? ORDER BY name`, env)
	if err != nil {
		return nil, fmt.Errorf("store: list variables: %w", err)
	}
	return collect(rows, scanVariable)
}

// DeleteVariable removes a variable (ErrNotFound when absent).
func (q Q) DeleteVariable(ctx context.Context, env, name string) error {
	return q.updateOne(ctx, "variable "+env+"/"+name, `DELETE FROM env_variables WHERE env = ? AND name = ?`, env, name)
}

// ---- encryption keys ----

// InsertEncryptionKey stores a sealed key.
func (q Q) InsertEncryptionKey(ctx context.Context, k EncryptionKey) error {
	_, err := q.exec(ctx, `INSERT INTO encryption_keys (id, env, workflow_id, sealed, active, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Env, k.WorkflowID, k.Sealed, k.Active, micros(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: insert encryption key: %w", err)
	}
	return nil
}

const keyCols = `id, env, workflow_id, sealed, active, created_at`

func scanKey(s interface{ Scan(...any) error }) (EncryptionKey, error) {
	var k EncryptionKey
	var c int64
	err := s.Scan(&k.ID, &k.Env, &k.WorkflowID, &k.Sealed, &k.Active, &c)
	k.CreatedAt = fromMicros(c)
	return k, err
}

// EncryptionKey reads one key of a workflow.
func (q Q) EncryptionKey(ctx context.Context, env, workflowID, id string) (EncryptionKey, error) {
	k, err := scanKey(q.queryRow(ctx, `SELECT `+keyCols+` FROM encryption_keys WHERE env = ? AND workflow_id = ? AND id = ?`,
		env, workflowID, id))
	return k, notFound(err, "store: encryption key "+id)
}

// EncryptionKeys lists a workflow's keys, oldest first.
func (q Q) EncryptionKeys(ctx context.Context, env, workflowID string) ([]EncryptionKey, error) {
	rows, err := q.query(ctx, `SELECT `+keyCols+` FROM encryption_keys WHERE env = ? AND workflow_id = ? ORDER BY created_at, id`,
		env, workflowID)
	if err != nil {
		return nil, fmt.Errorf("store: list encryption keys: %w", err)
	}
	return collect(rows, scanKey)
}

// SetKeyActive activates one key and deactivates the workflow's others
// (active=false), or deactivates the one key (active=false).
func (q Q) SetKeyActive(ctx context.Context, env, workflowID, id string, active bool) error {
	if active {
		// Deactivate first: the unique index allows one active key.
		if _, err := q.exec(ctx, `UPDATE encryption_keys SET active = ? WHERE env = ? AND workflow_id = ? AND id <> ?`,
			false, env, workflowID, id); err != nil {
			return fmt.Errorf("store: activate key: %w", err)
		}
	}
	return q.updateOne(ctx, "encryption key "+id,
		`UPDATE encryption_keys SET active = ? WHERE env = ? AND workflow_id = ? AND id = ?`, active, env, workflowID, id)
}

// DeleteInactiveKey deletes a key only when it is inactive; it reports
// whether a row was deleted.
func (q Q) DeleteInactiveKey(ctx context.Context, env, workflowID, id string) (bool, error) {
	res, err := q.exec(ctx, `DELETE FROM encryption_keys WHERE env = ? AND workflow_id = ? AND id = ? AND active = ?`,
		env, workflowID, id, false)
	if err != nil {
		return false, fmt.Errorf("store: delete key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ---- helpers ----

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: rows: %w", err)
	}
	return out, nil
}
