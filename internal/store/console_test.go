package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

// consoleRows writes n invocations of two workflows, one second apart,
// newest last: two rows each (a console line, then the outcome); every
// 4th failed with a timeout, every 8th of those… alternately thrown.
func consoleRows(t *testing.T, db *store.DB, n int, t0 time.Time) {
	t.Helper()
	var rows []store.RuntimeLog
	for i := range n {
		wf := []string{"a", "b"}[i%2]
		base := store.RuntimeLog{InvocationID: fmt.Sprintf("inv_%03d", i), Env: "prod", WorkflowID: wf, At: t0.Add(time.Duration(i) * time.Second)}
		line, out := base, base
		line.Level, line.Message = "info", "hi"
		out.Level, out.Status, out.Message, out.Duration = "info", "succeeded", "invocation succeeded", time.Millisecond
		if i%4 == 0 {
			kind := []string{"timeout", "thrown"}[(i/4)%2]
			out.Level, out.Status, out.Message = "error", "failed", "invocation failed ("+kind+"): x"
		}
		rows = append(rows, line, out)
	}
	rows = append(rows, store.RuntimeLog{InvocationID: "other", Env: "staging", Status: "failed", Message: "invocation failed (timeout): y", At: t0})
	must(t, db.InTx(context.Background(), func(q store.Q) error { return q.AppendRuntimeLogs(context.Background(), rows) }))
}

func TestConsoleQueries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		db := open(t, b.NewURL(t))
		ctx := context.Background()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		consoleRows(t, db, 40, t0)
		q := func(lq store.OutcomeQuery) []store.RuntimeLog {
			t.Helper()
			lq.Env = "prod"
			rows, err := db.ConsoleLogs(ctx, lq)
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
		if rows := q(store.OutcomeQuery{Limit: 1000}); len(rows) != 80 || rows[0].InvocationID != "inv_039" || rows[0].Status == "" {
			t.Fatalf("all: %d rows, first %+v", len(rows), rows[0])
		}
		if rows := q(store.OutcomeQuery{Status: "failed"}); len(rows) != 10 {
			t.Fatalf("failed: %d", len(rows))
		}
		if rows := q(store.OutcomeQuery{Kind: "timeout"}); len(rows) != 5 || !strings.Contains(rows[0].Message, "(timeout)") {
			t.Fatalf("timeout: %d", len(rows))
		}
		if rows := q(store.OutcomeQuery{Kind: "timeout", Status: "succeeded"}); len(rows) != 0 {
			t.Fatalf("timeout+succeeded: %d", len(rows))
		}
		if rows := q(store.OutcomeQuery{WorkflowID: "b", Status: "succeeded"}); len(rows) != 20 {
			t.Fatalf("b succeeded: %d", len(rows))
		}
		if rows := q(store.OutcomeQuery{Since: t0.Add(30 * time.Second)}); len(rows) != 20 {
			t.Fatalf("since: %d", len(rows))
		}
		if _, err := db.ConsoleLogs(ctx, store.OutcomeQuery{Env: "prod", Kind: "x%"}); err == nil {
			t.Fatal("a kind with % was accepted")
		}
		// Paging by (at, seq) visits every row once.
		seen := map[int64]bool{}
		var cur store.OutcomeQuery
		for pages := 0; ; pages++ {
			cur.Limit = 7
			rows := q(cur)
			for _, r := range rows {
				if seen[r.Seq] {
					t.Fatalf("row %d twice", r.Seq)
				}
				seen[r.Seq] = true
			}
			if len(rows) < 7 {
				break
			}
			cur.BeforeAt, cur.BeforeSeq = rows[len(rows)-1].At, rows[len(rows)-1].Seq
		}
		if len(seen) != 80 {
			t.Fatalf("paging saw %d rows", len(seen))
		}
		// Two and a half minutes later, 6 more invocations (2 failed).
		var later []store.RuntimeLog
		for i := range 6 {
			l := store.RuntimeLog{InvocationID: fmt.Sprintf("late_%d", i), Env: "prod", WorkflowID: "a", Level: "info",
				Status: "succeeded", Message: "invocation succeeded", Duration: time.Millisecond, At: t0.Add(150*time.Second + time.Duration(i)*time.Second)}
			if i < 2 {
				l.Status, l.Message = "failed", "invocation failed (memory): z"
			}
			later = append(later, l)
		}
		must(t, db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, later) }))
		// Buckets are whole minutes: 10 s counts as one.
		stats, err := db.OutcomeStats(ctx, "prod", t0.Add(20*time.Second), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		perBucket := map[int]int{}
		failed := 0
		for _, st := range stats {
			perBucket[st.Bucket] += st.Count
			if st.Status == "failed" {
				failed += st.Count
			}
			if st.Class != 3 { // 1 ms is in (0.5 ms, 1 ms]
				t.Errorf("class %d for 1 ms", st.Class)
			}
		}
		if len(perBucket) != 2 || perBucket[0] != 40 || perBucket[2] != 6 || failed != 12 {
			t.Fatalf("outcome stats per bucket %v, failed %d", perBucket, failed)
		}
		if stats, _ := db.OutcomeStats(ctx, "prod", t0.Add(time.Minute), 2*time.Minute); len(stats) == 0 || stats[0].Bucket != 0 {
			t.Fatalf("since the second minute, 2-minute buckets: %+v", stats)
		}
		kinds, err := db.FailureKinds(ctx, "prod", t0, []string{"timeout", "memory"})
		if err != nil || kinds["timeout"] != 5 || kinds["other"] != 5 || kinds["memory"] != 2 {
			t.Fatalf("failure kinds: %v %v", kinds, err)
		}
		// From a whole hour in hour buckets the hourly counts answer, else
		// the minutes: both agree.
		for _, bucket := range []time.Duration{time.Hour, 30 * time.Minute} {
			stats, err := db.OutcomeStats(ctx, "prod", t0, bucket)
			total, failed := 0, 0
			for _, st := range stats {
				if st.Bucket != 0 {
					t.Errorf("%v buckets: bucket %d", bucket, st.Bucket)
				}
				total += st.Count
				if st.Status == "failed" {
					failed += st.Count
				}
			}
			if err != nil || total != 46 || failed != 12 {
				t.Fatalf("%v buckets from the hour: %d invocations, %d failed, %v", bucket, total, failed, err)
			}
		}
		if kinds, err := db.FailureKinds(ctx, "prod", t0.Add(time.Minute), []string{"timeout", "memory"}); err != nil || len(kinds) != 1 || kinds["memory"] != 2 {
			t.Fatalf("failure kinds since the second minute: %v %v", kinds, err)
		}
		if _, err := db.FailureKinds(ctx, "prod", t0, []string{"x'"}); err == nil {
			t.Fatal("a kind with a quote was accepted")
		}
		// Retention takes the counts of pruned minutes and hours too, in
		// batches, and keeps those of the last minute and hour before the cut.
		prune := func(cut time.Time) {
			t.Helper()
			for {
				n, err := db.PruneRuntimeLogs(ctx, cut, 7)
				must(t, err)
				if n > 7 {
					t.Fatalf("one prune call deleted %d rows, limit 7", n)
				}
				if n == 0 {
					return
				}
			}
		}
		counted := func(bucket time.Duration) int {
			t.Helper()
			stats, err := db.OutcomeStats(ctx, "prod", t0, bucket)
			must(t, err)
			n := 0
			for _, st := range stats {
				n += st.Count
			}
			return n
		}
		prune(t0.Add(time.Hour))
		if m, h := counted(time.Minute), counted(time.Hour); m != 0 || h != 46 {
			t.Fatalf("an hour on: %d invocations counted by minute (want 0), %d by hour (want 46)", m, h)
		}
		prune(t0.Add(2 * time.Hour))
		if h := counted(time.Hour); h != 0 {
			t.Fatalf("two hours on: %d invocations counted by hour, want 0", h)
		}
	})
}

// TestConsoleQueryPlans: on SQLite every console log query walks an index
// in order — no full scan, no sort of the whole table — so pages stay fast
// with millions of rows.
func TestConsoleQueryPlans(t *testing.T) {
	db := open(t, t.TempDir()+"/plans.db")
	ctx := context.Background()
	consoleRows(t, db, 10, time.Unix(1000, 0))
	cases := map[string]string{
		"all":        `SELECT seq FROM runtime_logs WHERE env = 'prod' ORDER BY at DESC, seq DESC LIMIT 100`,
		"workflow":   `SELECT seq FROM runtime_logs WHERE env = 'prod' AND workflow_id = 'a' ORDER BY at DESC, seq DESC LIMIT 100`,
		"status":     `SELECT seq FROM runtime_logs WHERE env = 'prod' AND status <> '' AND status = 'failed' ORDER BY at DESC, seq DESC LIMIT 100`,
		"wf+status":  `SELECT seq FROM runtime_logs WHERE env = 'prod' AND workflow_id = 'a' AND status <> '' AND status = 'failed' ORDER BY at DESC, seq DESC LIMIT 100`,
		"kind":       `SELECT seq FROM runtime_logs WHERE env = 'prod' AND error_kind <> '' AND error_kind = 'timeout' ORDER BY at DESC, seq DESC LIMIT 100`,
		"stats":      `SELECT (minute - 0) / 60000000 AS b, workflow_id, status, class, SUM(n) FROM runtime_outcome_minutes WHERE env = 'prod' AND minute >= 0 GROUP BY b, workflow_id, status, class`,
		"kinds":      `SELECT error_kind, SUM(n) FROM runtime_outcome_minutes WHERE env = 'prod' AND minute >= 0 AND status = 'failed' GROUP BY error_kind`,
		"stats/hour": `SELECT (hour - 0) / 3600000000 AS b, workflow_id, status, class, SUM(n) FROM runtime_outcome_hours WHERE env = 'prod' AND hour >= 0 GROUP BY b, workflow_id, status, class`,
		"kinds/hour": `SELECT error_kind, SUM(n) FROM runtime_outcome_hours WHERE env = 'prod' AND hour >= 0 AND status = 'failed' GROUP BY error_kind`,
		"invocation": `SELECT seq FROM runtime_logs WHERE env = 'prod' AND invocation_id = 'inv_001' ORDER BY seq DESC LIMIT 100`,
	}
	for name, query := range cases {
		rows, err := db.SQL().QueryContext(ctx, "EXPLAIN QUERY PLAN "+query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			must(t, rows.Scan(&id, &parent, &notused, &detail))
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		t.Logf("%s: %s", name, p)
		if !strings.Contains(p, "USING") || strings.Contains(p, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%s: plan %q walks no index in order", name, p)
		}
		if name == "kind" && !strings.Contains(p, "runtime_logs_outcome_kind") {
			t.Errorf("kind: plan %q does not walk the kind index", p)
		}
		if (name == "stats" || name == "kinds") && !strings.Contains(p, "runtime_outcome_minutes USING INDEX sqlite_autoindex") {
			t.Errorf("%s: plan %q does not walk the per-minute counts by (env, minute)", name, p)
		}
		if strings.HasSuffix(name, "/hour") && !strings.Contains(p, "runtime_outcome_hours USING INDEX sqlite_autoindex") {
			t.Errorf("%s: plan %q does not walk the per-hour counts by (env, hour)", name, p)
		}
	}
}

// TestOutcomeHoursBackfilled: a database upgraded from before the hourly
// counts (migration 0011) gets them from its per-minute counts, so the
// day and week charts show the invocations logged before the upgrade.
func TestOutcomeHoursBackfilled(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		url := b.NewURL(t)
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		db, err := store.Open(ctx, url, "")
		must(t, err)
		consoleRows(t, db, 40, t0)                              // hour 0
		consoleRows(t, db, 8, t0.Add(time.Hour+30*time.Minute)) // hour 1, 2 of them failed
		// Back to schema version 10: no hourly counts yet.
		for _, q := range []string{`DROP TABLE runtime_outcome_hours`, `DELETE FROM schema_migrations WHERE version = 11`} {
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		db = open(t, url)
		stats, err := db.OutcomeStats(ctx, "prod", t0, time.Hour)
		must(t, err)
		per, failed := map[int]int{}, map[int]int{}
		for _, st := range stats {
			per[st.Bucket] += st.Count
			if st.Status == "failed" {
				failed[st.Bucket] += st.Count
			}
		}
		if per[0] != 40 || failed[0] != 10 || per[1] != 8 || failed[1] != 2 || len(per) != 2 {
			t.Fatalf("per hour after the upgrade: %v invocations, %v failed", per, failed)
		}
		kinds, err := db.FailureKinds(ctx, "prod", t0, []string{"timeout", "thrown"})
		if err != nil || kinds["timeout"] != 6 || kinds["thrown"] != 6 {
			t.Fatalf("failure kinds after the upgrade: %v %v", kinds, err)
		}
	})
}
