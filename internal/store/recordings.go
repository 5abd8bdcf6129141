package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RecordingSettings is an environment's recording configuration as stored:
// the settings as JSON (deploy and internal/recording give them meaning)
// and the sealed personal-data hashing key.
type RecordingSettings struct {
	Env       string
	Settings  []byte
	PIIKey    []byte // sealed
	UpdatedAt time.Time
}

// Recording is one stored recorded trigger call; Sealed holds the redacted
// replay.Recorded, sealed.
type Recording struct {
	Seq        int64
	ID         string
	Env        string
	WorkflowID string
	Trigger    string
	At         time.Time
	Sealed     []byte
}

// RecordingSettings reads env's recording settings (ErrNotFound: never set).
func (q Q) RecordingSettings(ctx context.Context, env string) (RecordingSettings, error) {
	r := RecordingSettings{Env: env}
	var at int64
	err := q.queryRow(ctx, `SELECT settings, pii_key, updated_at FROM recording_settings WHERE env = ?`, env).
		Scan(&r.Settings, &r.PIIKey, &at)
	r.UpdatedAt = fromMicros(at)
	return r, notFound(err, "store: recording settings of "+env)
}

// PutRecordingSettings creates or replaces env's settings. The hashing key
// is kept when one is stored already (hashes stay stable across changes).
func (q Q) PutRecordingSettings(ctx context.Context, r RecordingSettings) error {
	_, err := q.exec(ctx, `INSERT INTO recording_settings (env, settings, pii_key, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (env) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		r.Env, string(r.Settings), r.PIIKey, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("store: put recording settings of %s: %w", r.Env, err)
	}
	return nil
}

// AllRecordingSettings lists every environment's settings (for retention).
func (q Q) AllRecordingSettings(ctx context.Context) ([]RecordingSettings, error) {
	rows, err := q.query(ctx, `SELECT env, settings, pii_key, updated_at FROM recording_settings ORDER BY env`)
	if err != nil {
		return nil, fmt.Errorf("store: recording settings: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (RecordingSettings, error) {
		var r RecordingSettings
		var at int64
		err := s.Scan(&r.Env, &r.Settings, &r.PIIKey, &at)
		r.UpdatedAt = fromMicros(at)
		return r, err
	})
}

// AddRecording stores one recording and then drops the workflow's oldest
// past keep (the per-workflow cap); call it in a transaction. It returns
// how many were dropped.
func (q Q) AddRecording(ctx context.Context, r Recording, keep int) (int64, error) {
	_, err := q.exec(ctx, `INSERT INTO recordings (id, env, workflow_id, trigger, at, sealed) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.Env, r.WorkflowID, r.Trigger, micros(r.At), r.Sealed)
	if err != nil {
		return 0, fmt.Errorf("store: add recording: %w", err)
	}
	if keep <= 0 {
		return 0, nil
	}
	var cut int64
	err = q.queryRow(ctx, `SELECT seq FROM recordings WHERE env = ? AND workflow_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?`,
		r.Env, r.WorkflowID, keep).Scan(&cut)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: recording cap: %w", err)
	}
	res, err := q.exec(ctx, `DELETE FROM recordings WHERE env = ? AND workflow_id = ? AND seq <= ?`, r.Env, r.WorkflowID, cut)
	if err != nil {
		return 0, fmt.Errorf("store: recording cap: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Recordings returns up to limit of a workflow's recordings (every
// workflow's when workflowID is ""), newest first, older than beforeSeq
// when it is positive (to page through an export).
func (q Q) Recordings(ctx context.Context, env, workflowID string, beforeSeq int64, limit int) ([]Recording, error) {
	where, args := `env = ?`, []any{env}
	if workflowID != "" {
		where += ` AND workflow_id = ?`
		args = append(args, workflowID)
	}
	if beforeSeq > 0 {
		where += ` AND seq < ?`
		args = append(args, beforeSeq)
	}
	args = append(args, clampLimit(limit))
	rows, err := q.query(ctx, `SELECT seq, id, env, workflow_id, trigger, at, sealed FROM recordings WHERE `+where+
		` ORDER BY seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: recordings: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (Recording, error) {
		var r Recording
		var at int64
		err := s.Scan(&r.Seq, &r.ID, &r.Env, &r.WorkflowID, &r.Trigger, &at, &r.Sealed)
		r.At = fromMicros(at)
		return r, err
	})
}

// RecordingEnvs lists the environments that have recordings.
func (q Q) RecordingEnvs(ctx context.Context) ([]string, error) {
	rows, err := q.query(ctx, `SELECT DISTINCT env FROM recordings ORDER BY env`)
	if err != nil {
		return nil, fmt.Errorf("store: recording environments: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var env string
		return env, s.Scan(&env)
	})
}

// RecordingCounts returns how many recordings each workflow of env has.
func (q Q) RecordingCounts(ctx context.Context, env string) (map[string]int64, error) {
	rows, err := q.query(ctx, `SELECT workflow_id, COUNT(*) FROM recordings WHERE env = ? GROUP BY workflow_id`, env)
	if err != nil {
		return nil, fmt.Errorf("store: recording counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("store: recording counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// DeleteRecordings deletes at most limit of env's recordings older than
// before (every one when before is zero), oldest first, and returns how
// many went. Retention and delete-all call it in a loop: each call is one
// short statement, so SQLite's one connection is never held for long.
func (q Q) DeleteRecordings(ctx context.Context, env string, before time.Time, limit int) (int64, error) {
	cond, args := `env = ?`, []any{env}
	if !before.IsZero() {
		cond += ` AND at < ?`
		args = append(args, micros(before))
	}
	args = append(args, limit)
	res, err := q.exec(ctx, `DELETE FROM recordings WHERE seq IN (SELECT seq FROM recordings WHERE `+cond+
		` ORDER BY seq LIMIT ?)`, args...)
	if err != nil {
		return 0, fmt.Errorf("store: delete recordings of %s: %w", env, err)
	}
	return res.RowsAffected()
}
