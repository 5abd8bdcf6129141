package store

import (
	"context"
	"database/sql"
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

// DurationClasses are the upper bounds (µs) of the duration classes
// OutcomeStats counts in: 1-2-5 steps from 0.1 ms to 30 s; a last class
// holds everything longer.
var DurationClasses = []int64{100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
	1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000}

// OutcomeStat counts one workflow's invocations with one status in one
// time bucket and one duration class.
type OutcomeStat struct {
	Bucket     int // (at - since) / bucket
	WorkflowID string
	Status     string
	Class      int // index into DurationClasses; len(DurationClasses) for longer
	Count      int
}

// OutcomeStats aggregates env's outcome rows since a time by time bucket,
// workflow, status and duration class, in the database: charts read a
// few hundred numbers instead of every invocation. It reads the covering
// outcome index only.
func (q Q) OutcomeStats(ctx context.Context, env string, since time.Time, bucket time.Duration) ([]OutcomeStat, error) {
	var cls strings.Builder
	cls.WriteString("CASE")
	for i, b := range DurationClasses {
		fmt.Fprintf(&cls, " WHEN duration_us <= %d THEN %d", b, i)
	}
	fmt.Fprintf(&cls, " ELSE %d END", len(DurationClasses))
	rows, err := q.query(ctx, `SELECT (at - ?) / ? AS b, workflow_id, status, `+cls.String()+` AS c, COUNT(*)
		FROM runtime_logs WHERE env = ? AND at >= ? AND status <> ''
		GROUP BY b, workflow_id, status, c`, micros(since), bucket.Microseconds(), env, micros(since))
	if err != nil {
		return nil, fmt.Errorf("store: outcome stats: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (OutcomeStat, error) {
		var o OutcomeStat
		return o, s.Scan(&o.Bucket, &o.WorkflowID, &o.Status, &o.Class, &o.Count)
	})
}

// FailureKinds counts env's failed invocations since a time by error kind
// (kinds are letters and '-'; the outcome message names its kind).
func (q Q) FailureKinds(ctx context.Context, env string, since time.Time, kinds []string) (map[string]int, error) {
	var cols []string
	var args []any
	for _, k := range kinds {
		if !kindName(k) {
			return nil, fmt.Errorf("store: error kind %q: letters and '-' only", k)
		}
		cols = append(cols, "SUM(CASE WHEN message LIKE ? THEN 1 ELSE 0 END)")
		args = append(args, "invocation failed ("+k+")%")
	}
	cols = append(cols, "COUNT(*)")
	args = append(args, env, "failed", micros(since))
	vals := make([]sql.NullInt64, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := q.queryRow(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM runtime_logs
		WHERE env = ? AND status <> '' AND status = ? AND at >= ?`, args...).Scan(ptrs...)
	if err != nil {
		return nil, fmt.Errorf("store: failure kinds: %w", err)
	}
	out := map[string]int{}
	known := 0
	for i, k := range kinds {
		if n := int(vals[i].Int64); n > 0 {
			out[k] = n
			known += n
		}
	}
	if other := int(vals[len(kinds)].Int64) - known; other > 0 {
		out["other"] = other
	}
	return out, nil
}
