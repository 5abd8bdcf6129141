package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Re-seal run states.
const (
	ResealQueued    = "queued"
	ResealRunning   = "running"
	ResealSucceeded = "succeeded" // every value is sealed under the current key
	ResealPartial   = "finished-with-unreadable-values"
	ResealFailed    = "failed"
)

// MaxUnreadableNames bounds the names a run lists.
const MaxUnreadableNames = 100

// ResealRun is one run of the re-seal job and its progress.
type ResealRun struct {
	ID              string    `json:"id"`
	State           string    `json:"state"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
	FinishedAt      time.Time `json:"finishedAt,omitzero"`
	Total           int       `json:"total"`      // sealed values when the run started
	Scanned         int       `json:"scanned"`    // looked at so far
	Resealed        int       `json:"resealed"`   // re-encrypted under the current key by this run
	Unreadable      int       `json:"unreadable"` // values no configured key opens
	UnreadableNames []string  `json:"unreadableNames,omitempty"`
	Error           string    `json:"error,omitempty"`
}

// Finished reports whether the run is over.
func (r ResealRun) Finished() bool {
	return r.State == ResealSucceeded || r.State == ResealPartial || r.State == ResealFailed
}

const resealCols = `id, state, created_at, updated_at, finished_at, total, scanned, resealed, unreadable, unreadable_names, error`

func scanReseal(s interface{ Scan(...any) error }) (ResealRun, error) {
	var r ResealRun
	var c, u, f int64
	var names string
	err := s.Scan(&r.ID, &r.State, &c, &u, &f, &r.Total, &r.Scanned, &r.Resealed, &r.Unreadable, &names, &r.Error)
	r.CreatedAt, r.UpdatedAt, r.FinishedAt = fromMicros(c), fromMicros(u), fromMicros(f)
	if names != "" {
		r.UnreadableNames = strings.Split(names, "\n")
	}
	return r, err
}

// InsertResealRun records a new run.
func (q Q) InsertResealRun(ctx context.Context, r ResealRun) error {
	now := micros(time.Now())
	_, err := q.exec(ctx, `INSERT INTO reseal_runs (id, state, created_at, updated_at) VALUES (?, ?, ?, ?)`, r.ID, r.State, now, now)
	if err != nil {
		return fmt.Errorf("store: insert re-seal run: %w", err)
	}
	return nil
}

// UpdateResealRun writes a run's state and progress.
func (q Q) UpdateResealRun(ctx context.Context, r ResealRun) error {
	names := r.UnreadableNames
	if len(names) > MaxUnreadableNames {
		names = names[:MaxUnreadableNames]
	}
	return q.updateOne(ctx, "re-seal run "+r.ID, `UPDATE reseal_runs SET state = ?, updated_at = ?, finished_at = ?, total = ?, scanned = ?,
		resealed = ?, unreadable = ?, unreadable_names = ?, error = ? WHERE id = ?`,
		r.State, micros(time.Now()), micros(r.FinishedAt), r.Total, r.Scanned, r.Resealed, r.Unreadable,
		strings.Join(names, "\n"), r.Error, r.ID)
}

// ResealRunByID reads one run (ErrNotFound when absent).
func (q Q) ResealRunByID(ctx context.Context, id string) (ResealRun, error) {
	r, err := scanReseal(q.queryRow(ctx, `SELECT `+resealCols+` FROM reseal_runs WHERE id = ?`, id))
	return r, notFound(err, "store: re-seal run "+id)
}

// LatestResealRun reads the newest run (ErrNotFound when none ran).
func (q Q) LatestResealRun(ctx context.Context) (ResealRun, error) {
	r, err := scanReseal(q.queryRow(ctx, `SELECT `+resealCols+` FROM reseal_runs ORDER BY created_at DESC, id DESC LIMIT 1`))
	return r, notFound(err, "store: re-seal runs")
}

// CountSealed counts the sealed values: secret variables and workflow keys.
func (q Q) CountSealed(ctx context.Context) (int, error) {
	var vars, keys int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM env_variables WHERE is_secret = ?`, true).Scan(&vars); err != nil {
		return 0, fmt.Errorf("store: count sealed variables: %w", err)
	}
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM encryption_keys`).Scan(&keys); err != nil {
		return 0, fmt.Errorf("store: count encryption keys: %w", err)
	}
	return vars + keys, nil
}

// SecretVariablesAfter lists up to limit secret variables of every
// environment after (env, name), in that order.
func (q Q) SecretVariablesAfter(ctx context.Context, env, name string, limit int) ([]Variable, error) {
	rows, err := q.query(ctx, `SELECT `+varCols+` FROM env_variables WHERE is_secret = ? AND (env > ? OR (env = ? AND name > ?))
		ORDER BY env, name LIMIT ?`, true, env, env, name, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list secret variables: %w", err)
	}
	return collect(rows, scanVariable)
}

// ReplaceSealedVariable swaps a secret variable's sealed value for another
// sealing of the same value, only if it still holds old: a value written
// meanwhile is never overwritten. It reports whether it swapped.
func (q Q) ReplaceSealedVariable(ctx context.Context, env, name string, old, sealed []byte) (bool, error) {
	res, err := q.exec(ctx, `UPDATE env_variables SET value = ? WHERE env = ? AND name = ? AND is_secret = ? AND value = ?`,
		sealed, env, name, true, old)
	if err != nil {
		return false, fmt.Errorf("store: re-seal variable %s/%s: %w", env, name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// EncryptionKeysAfter lists up to limit workflow keys of every
// environment with ids after id, by id.
func (q Q) EncryptionKeysAfter(ctx context.Context, id string, limit int) ([]EncryptionKey, error) {
	rows, err := q.query(ctx, `SELECT `+keyCols+` FROM encryption_keys WHERE id > ? ORDER BY id LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list encryption keys: %w", err)
	}
	return collect(rows, scanKey)
}

// ReplaceSealedKey swaps a workflow key's sealed form for another sealing
// of the same key, only if it still holds old.
func (q Q) ReplaceSealedKey(ctx context.Context, id string, old, sealed []byte) (bool, error) {
	res, err := q.exec(ctx, `UPDATE encryption_keys SET sealed = ? WHERE id = ? AND sealed = ?`, sealed, id, old)
	if err != nil {
		return false, fmt.Errorf("store: re-seal encryption key %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
