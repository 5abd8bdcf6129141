package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Queries the web console needs beyond the management API's: runtime log
// filters by outcome and error kind, and the outcome rows charts are drawn
// from. Each is bounded by a LIMIT and walks an index newest first: (env,
// at), (env, workflow_id, at), or the partial outcome indexes of migration
// 0003 — "status <> ''" is spelled out in the queries so that SQLite may
// use them.

// OutcomeQuery filters runtime logs for the console. Status and Kind match
// only outcome rows (the one row per invocation that carries its status);
// with neither set, console lines are included too.
type OutcomeQuery struct {
	Env        string
	WorkflowID string
	Status     string // succeeded, failed, … ("" = any)
	Kind       string // an error kind such as "timeout" ("" = any); letters and '-' only
	Since      time.Time
	// Before pages back: only rows older than (BeforeAt, BeforeSeq).
	BeforeAt  time.Time
	BeforeSeq int64
	Limit     int // default 100, at most 1000
}

// ConsoleLogs returns runtime log rows matching q, newest first.
func (q Q) ConsoleLogs(ctx context.Context, lq OutcomeQuery) ([]RuntimeLog, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	add("env = ?", lq.Env)
	if lq.WorkflowID != "" {
		add("workflow_id = ?", lq.WorkflowID)
	}
	status := lq.Status
	if lq.Kind != "" {
		if !kindName(lq.Kind) {
			return nil, fmt.Errorf("store: error kind %q: letters and '-' only", lq.Kind)
		}
		if status != "" && status != "failed" {
			return []RuntimeLog{}, nil // only failed invocations have an error kind
		}
		// The outcome row of a failed invocation reads
		// "invocation failed (<kind>): <message>".
		status = "failed"
		add("message LIKE ?", "invocation failed ("+lq.Kind+")%")
	}
	if status != "" {
		where = append(where, "status <> ''")
		add("status = ?", status)
	}
	if !lq.Since.IsZero() {
		add("at >= ?", micros(lq.Since))
	}
	if !lq.BeforeAt.IsZero() {
		where = append(where, "(at < ? OR (at = ? AND seq < ?))")
		args = append(args, micros(lq.BeforeAt), micros(lq.BeforeAt), lq.BeforeSeq)
	}
	args = append(args, clampLimit(lq.Limit))
	rows, err := q.query(ctx, `SELECT seq, invocation_id, env, workflow_id, deployment_id, trigger, level, message, status,
		duration_us, at FROM runtime_logs WHERE `+strings.Join(where, " AND ")+` ORDER BY at DESC, seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: console logs: %w", err)
	}
	return collect(rows, scanRuntimeLog)
}

// Outcome is one invocation's outcome row, as charts read it.
type Outcome struct {
	WorkflowID string
	Status     string
	Duration   time.Duration
	At         time.Time
}

// Outcomes returns the outcome rows of env since a time, newest first, at
// most limit of them (charts say when they were cut). It reads the
// covering outcome index only.
func (q Q) Outcomes(ctx context.Context, env string, since time.Time, limit int) ([]Outcome, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.query(ctx, `SELECT workflow_id, status, duration_us, at FROM runtime_logs
		WHERE env = ? AND at >= ? AND status <> '' ORDER BY at DESC LIMIT ?`, env, micros(since), limit)
	if err != nil {
		return nil, fmt.Errorf("store: outcomes: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (Outcome, error) {
		var o Outcome
		var dur, at int64
		err := s.Scan(&o.WorkflowID, &o.Status, &dur, &at)
		o.Duration, o.At = time.Duration(dur)*time.Microsecond, fromMicros(at)
		return o, err
	})
}

// FailureMessages returns the outcome messages of failed invocations of
// env since a time, newest first, at most limit (they name the error kind).
func (q Q) FailureMessages(ctx context.Context, env string, since time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.query(ctx, `SELECT message FROM runtime_logs
		WHERE env = ? AND status <> '' AND status = ? AND at >= ? ORDER BY at DESC LIMIT ?`, env, "failed", micros(since), limit)
	if err != nil {
		return nil, fmt.Errorf("store: failure messages: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var m string
		return m, s.Scan(&m)
	})
}

func scanRuntimeLog(s interface{ Scan(...any) error }) (RuntimeLog, error) {
	var l RuntimeLog
	var dur, at int64
	err := s.Scan(&l.Seq, &l.InvocationID, &l.Env, &l.WorkflowID, &l.DeploymentID, &l.Trigger, &l.Level, &l.Message,
		&l.Status, &dur, &at)
	l.Duration, l.At = time.Duration(dur)*time.Microsecond, fromMicros(at)
	return l, err
}

func kindName(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '-') {
			return false
		}
	}
	return true
}
