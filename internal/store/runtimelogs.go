package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// appendChunk is how many log rows one INSERT statement carries (ten
// parameters each, far below either database's limit).
const appendChunk = 100

// LogTotal is what an environment's runtime logs hold.
type LogTotal struct {
	Rows  int64
	Bytes int64 // of messages
}

// SanitizeText makes s storable as text in both databases: invalid UTF-8
// and NUL (which PostgreSQL refuses in text, failing the whole statement)
// become U+FFFD.
func SanitizeText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AppendRuntimeLogs writes log lines, many per statement, and adds them to
// their environments' totals; call it in a transaction (DB.InTx) so both
// land together. Every text is sanitised first (SanitizeText): what a
// workflow logged can never make the database refuse a batch.
func (q Q) AppendRuntimeLogs(ctx context.Context, logs []RuntimeLog) error {
	totals := map[string]LogTotal{}
	minutes, hours := map[outcomeKey]int64{}, map[outcomeKey]int64{}
	for len(logs) > 0 {
		n := min(len(logs), appendChunk)
		chunk := logs[:n]
		logs = logs[n:]
		args := make([]any, 0, 11*n)
		for _, l := range chunk {
			at := l.At
			if at.IsZero() {
				at = time.Now()
			}
			env, msg, status, wf := SanitizeText(l.Env), SanitizeText(l.Message), SanitizeText(l.Status), SanitizeText(l.WorkflowID)
			kind := outcomeKind(status, msg)
			args = append(args, SanitizeText(l.InvocationID), env, wf, SanitizeText(l.DeploymentID),
				SanitizeText(l.Trigger), SanitizeText(l.Level), msg, status, l.Duration.Microseconds(), micros(at), kind)
			t := totals[env]
			t.Rows++
			t.Bytes += int64(len(msg))
			totals[env] = t
			if status != "" {
				m := micros(at)
				k := outcomeKey{env, m - m%minuteMicros, wf, status, durationClass(l.Duration.Microseconds()), kind}
				minutes[k]++
				k.start = m - m%hourMicros
				hours[k]++
			}
		}
		query := fullChunkQuery // prepared (SQLite)
		if n < appendChunk {
			query = insertLogsQuery(n)
		}
		if _, err := q.execFixed(ctx, query, args...); err != nil {
			return fmt.Errorf("store: append runtime logs: %w", err)
		}
	}
	if err := q.addOutcomes(ctx, addOutcomeMinuteQuery, minutes); err != nil {
		return err
	}
	if err := q.addOutcomes(ctx, addOutcomeHourQuery, hours); err != nil {
		return err
	}
	return q.addLogTotals(ctx, totals, 1)
}

const (
	minuteMicros = int64(time.Minute / time.Microsecond)
	hourMicros   = int64(time.Hour / time.Microsecond)
)

// outcomeKey keys one row of runtime_outcome_minutes or
// runtime_outcome_hours; start is the minute's or the hour's.
type outcomeKey struct {
	env    string
	start  int64
	wf     string
	status string
	class  int
	kind   string
}

// outcomeKind is the error kind a failed outcome row names in its message
// ("invocation failed (<kind>): …"), or "".
func outcomeKind(status, msg string) string {
	const prefix = "invocation failed ("
	if status != "failed" || !strings.HasPrefix(msg, prefix) {
		return ""
	}
	k, _, ok := strings.Cut(msg[len(prefix):], "):")
	if !ok || !kindName(k) {
		return ""
	}
	return k
}

// durationClass is the index of the first class of DurationClasses that
// holds us, or len(DurationClasses).
func durationClass(us int64) int {
	for i, b := range DurationClasses {
		if us <= b {
			return i
		}
	}
	return len(DurationClasses)
}

const (
	addOutcomeMinuteQuery = `INSERT INTO runtime_outcome_minutes (env, minute, workflow_id, status, class, error_kind, n)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (env, minute, workflow_id, status, class, error_kind)
			DO UPDATE SET n = runtime_outcome_minutes.n + excluded.n`
	addOutcomeHourQuery = `INSERT INTO runtime_outcome_hours (env, hour, workflow_id, status, class, error_kind, n)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (env, hour, workflow_id, status, class, error_kind)
			DO UPDATE SET n = runtime_outcome_hours.n + excluded.n`
)

// addOutcomes adds outcome counts to their minutes or hours (query), in key
// order so concurrent writers lock rows in the same order.
func (q Q) addOutcomes(ctx context.Context, query string, counts map[outcomeKey]int64) error {
	keys := make([]outcomeKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b outcomeKey) int {
		return cmp.Or(strings.Compare(a.env, b.env), cmp.Compare(a.start, b.start), strings.Compare(a.wf, b.wf),
			strings.Compare(a.status, b.status), cmp.Compare(a.class, b.class), strings.Compare(a.kind, b.kind))
	})
	for _, k := range keys {
		if _, err := q.execFixed(ctx, query, k.env, k.start, k.wf, k.status, k.class, k.kind, counts[k]); err != nil {
			return fmt.Errorf("store: outcome counts: %w", err)
		}
	}
	return nil
}

var fullChunkQuery = insertLogsQuery(appendChunk)

// insertLogsQuery is the INSERT of n runtime log rows.
func insertLogsQuery(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO runtime_logs (invocation_id, env, workflow_id, deployment_id, trigger, level,
			message, status, duration_us, at, error_kind) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	return b.String()
}

const addLogTotalsQuery = `INSERT INTO runtime_log_totals (env, row_count, byte_count) VALUES (?, ?, ?)
			ON CONFLICT (env) DO UPDATE SET row_count = runtime_log_totals.row_count + excluded.row_count,
			byte_count = runtime_log_totals.byte_count + excluded.byte_count`

// addLogTotals adds (sign 1) or subtracts (-1) per-environment totals, in
// environment order so concurrent writers lock rows in the same order.
func (q Q) addLogTotals(ctx context.Context, totals map[string]LogTotal, sign int64) error {
	envs := make([]string, 0, len(totals))
	for env := range totals {
		envs = append(envs, env)
	}
	slices.Sort(envs)
	for _, env := range envs {
		t := totals[env]
		_, err := q.execFixed(ctx, addLogTotalsQuery, env, sign*t.Rows, sign*t.Bytes)
		if err != nil {
			return fmt.Errorf("store: runtime log totals: %w", err)
		}
	}
	return nil
}

// RuntimeLogTotals returns every environment's runtime log totals.
func (q Q) RuntimeLogTotals(ctx context.Context) (map[string]LogTotal, error) {
	rows, err := q.query(ctx, `SELECT env, row_count, byte_count FROM runtime_log_totals`)
	if err != nil {
		return nil, fmt.Errorf("store: runtime log totals: %w", err)
	}
	defer rows.Close()
	out := map[string]LogTotal{}
	for rows.Next() {
		var env string
		var t LogTotal
		if err := rows.Scan(&env, &t.Rows, &t.Bytes); err != nil {
			return nil, fmt.Errorf("store: runtime log totals: %w", err)
		}
		out[env] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: runtime log totals: %w", err)
	}
	return out, nil
}

// RuntimeLogs returns log lines matching lq, newest first.
func (q Q) RuntimeLogs(ctx context.Context, lq LogQuery) ([]RuntimeLog, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	add("env = ?", lq.Env)
	if lq.WorkflowID != "" {
		add("workflow_id = ?", lq.WorkflowID)
	}
	if lq.InvocationID != "" {
		add("invocation_id = ?", lq.InvocationID)
	}
	if !lq.Since.IsZero() {
		add("at >= ?", micros(lq.Since))
	}
	if lq.BeforeSeq > 0 {
		add("seq < ?", lq.BeforeSeq)
	}
	args = append(args, clampLimit(lq.Limit))
	rows, err := q.query(ctx, `SELECT seq, invocation_id, env, workflow_id, deployment_id, trigger, level, message, status,
		duration_us, at FROM runtime_logs WHERE `+strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: runtime logs: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (RuntimeLog, error) {
		var l RuntimeLog
		var dur, at int64
		err := s.Scan(&l.Seq, &l.InvocationID, &l.Env, &l.WorkflowID, &l.DeploymentID, &l.Trigger, &l.Level, &l.Message,
			&l.Status, &dur, &at)
		l.Duration, l.At = time.Duration(dur)*time.Microsecond, fromMicros(at)
		return l, err
	})
}

// PruneRuntimeLogs deletes at most limit rows older than before, oldest
// first, and returns how many went. Retention calls it in a loop: each
// call is one short transaction, so on SQLite's single connection other
// work runs between batches.
func (db *DB) PruneRuntimeLogs(ctx context.Context, before time.Time, limit int) (int64, error) {
	n, err := db.deleteLogs(ctx, `WHERE at < ? ORDER BY at LIMIT ?`, micros(before), limit)
	if err != nil || n >= int64(limit) {
		return n, err
	}
	// The logs are pruned: the outcome counts of the same minutes and
	// hours go too, in the rest of the batch.
	for _, t := range []struct {
		table, column string
		size          int64
	}{{"runtime_outcome_minutes", "minute", minuteMicros}, {"runtime_outcome_hours", "hour", hourMicros}} {
		res, err := db.exec(ctx, `DELETE FROM `+t.table+` WHERE (env, `+t.column+`, workflow_id, status, class, error_kind) IN
			(SELECT env, `+t.column+`, workflow_id, status, class, error_kind FROM `+t.table+` WHERE `+t.column+` < ? LIMIT ?)`,
			micros(before)-t.size, int64(limit)-n)
		if err != nil {
			return n, fmt.Errorf("store: prune %s: %w", t.table, err)
		}
		m, err := res.RowsAffected()
		if n += m; err != nil || n >= int64(limit) {
			return n, err
		}
	}
	return n, nil
}

// TrimRuntimeLogs deletes at most limit of env's oldest rows (its quota is
// exceeded) and returns how many went.
func (db *DB) TrimRuntimeLogs(ctx context.Context, env string, limit int) (int64, error) {
	return db.deleteLogs(ctx, `WHERE env = ? ORDER BY at LIMIT ?`, env, limit)
}

// deleteLogs deletes the rows the subquery tail selects and takes them
// off their environments' totals, in one transaction.
func (db *DB) deleteLogs(ctx context.Context, tail string, args ...any) (int64, error) {
	size := "LENGTH(CAST(message AS BLOB))"
	if db.dialect == Postgres {
		size = "OCTET_LENGTH(message)"
	}
	var n int64
	err := db.InTx(ctx, func(q Q) error {
		rows, err := q.query(ctx, `DELETE FROM runtime_logs WHERE seq IN (SELECT seq FROM runtime_logs `+tail+`)
			RETURNING env, `+size, args...)
		if err != nil {
			return fmt.Errorf("store: delete runtime logs: %w", err)
		}
		totals := map[string]LogTotal{}
		for rows.Next() {
			var env string
			var b int64
			if err := rows.Scan(&env, &b); err != nil {
				rows.Close()
				return fmt.Errorf("store: delete runtime logs: %w", err)
			}
			t := totals[env]
			t.Rows++
			t.Bytes += b
			totals[env] = t
			n++
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: delete runtime logs: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: delete runtime logs: %w", err)
		}
		return q.addLogTotals(ctx, totals, -1)
	})
	return n, err
}
