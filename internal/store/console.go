package store

import (
	"context"
	"fmt"
	"slices"
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
		// Only failed outcome rows have a kind: the kind index alone
		// finds them (a status condition would tempt SQLite to walk every
		// failed row instead).
		status = ""
		where = append(where, "error_kind <> ''")
		add("error_kind = ?", lq.Kind)
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

// OutcomeStats counts env's invocations since a time by time bucket,
// workflow, status and duration class. It reads the per-minute or
// per-hour counts the log writer keeps (outcomeTable), so its cost grows
// with the number of minutes or hours, not of invocations; since and
// bucket are rounded to whole minutes.
func (q Q) OutcomeStats(ctx context.Context, env string, since time.Time, bucket time.Duration) ([]OutcomeStat, error) {
	from := micros(since)
	from -= from % minuteMicros
	b := max(bucket.Microseconds()-bucket.Microseconds()%minuteMicros, minuteMicros)
	table, column := outcomeTable(from, b)
	rows, err := q.query(ctx, `SELECT (`+column+` - ?) / ? AS b, workflow_id, status, class, SUM(n)
		FROM `+table+` WHERE env = ? AND `+column+` >= ?
		GROUP BY b, workflow_id, status, class`, from, b, env, from)
	if err != nil {
		return nil, fmt.Errorf("store: outcome stats: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (OutcomeStat, error) {
		var o OutcomeStat
		return o, s.Scan(&o.Bucket, &o.WorkflowID, &o.Status, &o.Class, &o.Count)
	})
}

// outcomeTable is the outcome rollup that counts from a time in buckets of
// a width (both in microseconds): the hours when both fall on whole hours
// (a 24-hour chart reads 24 rows per series, not 1,440), else the minutes.
func outcomeTable(from, bucket int64) (table, column string) {
	if from%hourMicros == 0 && bucket%hourMicros == 0 {
		return "runtime_outcome_hours", "hour"
	}
	return "runtime_outcome_minutes", "minute"
}

// FailureKinds counts env's failed invocations since a time (rounded down
// to the minute) by error kind: the kinds asked for, and "other" for the rest.
func (q Q) FailureKinds(ctx context.Context, env string, since time.Time, kinds []string) (map[string]int, error) {
	for _, k := range kinds {
		if !kindName(k) {
			return nil, fmt.Errorf("store: error kind %q: letters and '-' only", k)
		}
	}
	from := micros(since)
	from -= from % minuteMicros
	table, column := outcomeTable(from, hourMicros)
	rows, err := q.query(ctx, `SELECT error_kind, SUM(n) FROM `+table+`
		WHERE env = ? AND `+column+` >= ? AND status = 'failed' GROUP BY error_kind`, env, from)
	if err != nil {
		return nil, fmt.Errorf("store: failure kinds: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: failure kinds: %w", err)
		}
		if !slices.Contains(kinds, k) {
			k = "other"
		}
		out[k] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: failure kinds: %w", err)
	}
	return out, nil
}
