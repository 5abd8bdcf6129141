package deploy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

// appendLogs stores n rows of env, one second apart from at, each with msg.
func appendLogs(t *testing.T, db *store.DB, env string, n int, at time.Time, msg string) {
	t.Helper()
	rows := make([]store.RuntimeLog, n)
	for i := range rows {
		rows[i] = store.RuntimeLog{InvocationID: fmt.Sprint(env, i), Env: env, Level: "info", Message: msg, At: at.Add(time.Duration(i) * time.Second)}
	}
	if err := db.InTx(context.Background(), func(q store.Q) error { return q.AppendRuntimeLogs(context.Background(), rows) }); err != nil {
		t.Fatal(err)
	}
}

// TestPruneRetentionAndQuotas: retention deletes every expired row, in
// batches; each environment keeps at most its quota of rows and of
// message bytes, oldest first, counted; other environments keep theirs.
func TestPruneRetentionAndQuotas(t *testing.T) {
	cases := []struct {
		name      string
		opts      PruneOptions
		expired   int // rows of a past the retention
		rowsA     int // fresh rows of a
		wantKeptA int
		msg       string
	}{
		{"retention, more than a batch", PruneOptions{}, 2*deleteBatch + 7, 20, 20, "mm"},
		{"rows quota", PruneOptions{LogQuotaRows: 40}, 0, 150, 40, "mm"},
		{"bytes quota", PruneOptions{LogQuotaBytes: 1000}, 0, 150, 100, "0123456789"}, // 10 bytes a row: 100 fit
		{"quota past a batch", PruneOptions{LogQuotaRows: 30}, 0, deleteBatch + 40, 30, "m"},
		{"within both", PruneOptions{LogQuotaRows: 1000}, 0, 150, 150, "mm"},
	}
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s, _ := newEnv(t, b.NewURL(t)).service(t, svcOpts{realClock: true})
				ctx := context.Background()
				now := time.Now()
				appendLogs(t, s.db, "a", c.expired, now.Add(-DefaultLogRetention-time.Hour), c.msg)
				appendLogs(t, s.db, "a", c.rowsA, now.Add(-time.Hour), c.msg)
				appendLogs(t, s.db, "b", 30, now.Add(-time.Hour), "b")
				p := &pruner{svc: s, opts: c.opts.withDefaults()}
				pruned, err := p.pruneLogs(ctx)
				if err != nil || pruned != int64(c.expired) {
					t.Fatalf("retention pruned %d rows (%v), want %d", pruned, err, c.expired)
				}
				trimmed, err := p.enforceQuotas(ctx)
				if err != nil || trimmed != int64(c.rowsA-c.wantKeptA) {
					t.Fatalf("quotas trimmed %d rows (%v), want %d", trimmed, err, c.rowsA-c.wantKeptA)
				}
				if got := s.LogsTrimmed(); got != uint64(trimmed) {
					t.Errorf("LogsTrimmed = %d, want %d", got, trimmed)
				}
				tot, err := s.db.RuntimeLogTotals(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tot["a"].Rows != int64(c.wantKeptA) || tot["b"].Rows != 30 {
					t.Fatalf("kept a=%d b=%d, want %d and 30", tot["a"].Rows, tot["b"].Rows, c.wantKeptA)
				}
				rows, _ := s.db.RuntimeLogs(ctx, store.LogQuery{Env: "a", Limit: 1000})
				if len(rows) != c.wantKeptA || rows[len(rows)-1].InvocationID != fmt.Sprint("a", c.rowsA-c.wantKeptA) {
					t.Fatalf("the oldest did not go first: %d rows, oldest kept %s", len(rows), rows[len(rows)-1].InvocationID)
				}
			})
		}
	})
}

// TestPruneJobsRunPeriodically: the housekeeping runs as River periodic
// jobs registered with the rest: once the queue starts, expired runtime
// logs, rows past a quota and old delivery ids go, recent ones stay.
func TestPruneJobsRunPeriodically(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s, _ := newEnv(t, b.NewURL(t)).service(t, svcOpts{realClock: true})
		ctx := context.Background()
		now := time.Now()
		appendLogs(t, s.db, "a", 30, now.Add(-DefaultLogRetention-time.Hour), "old")
		appendLogs(t, s.db, "b", 25, now.Add(-time.Minute), "new")
		s.db.RecordDelivery(ctx, "old", now.Add(-DefaultDeliveryRetention-time.Hour))
		s.db.RecordDelivery(ctx, "new", now)
		j, err := NewJobs(ctx, JobsOptions{Store: s.db, Service: s, PollInterval: 50 * time.Millisecond, Logger: quietLogger(),
			Prune: PruneOptions{LogQuotaRows: 20}})
		if err != nil {
			t.Fatal(err)
		}
		startJobs(t, j)
		deadline := time.Now().Add(time.Minute) // a bound against hangs, not a timing assertion
		for {
			tot, err := s.db.RuntimeLogTotals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tot["a"].Rows == 0 && tot["b"].Rows == 20 && deliveryForgotten(t, s) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("housekeeping did not run: totals %+v", tot)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if fresh, _ := s.db.RecordDelivery(ctx, "new", now); fresh {
			t.Error("a recent delivery id was pruned")
		}
		if s.LogsTrimmed() != 5 {
			t.Errorf("LogsTrimmed = %d, want 5", s.LogsTrimmed())
		}
	})
}

// deliveryForgotten reports whether the old delivery id is gone, without
// recording it again while it is not (a fresh record would mask a later prune).
func deliveryForgotten(t *testing.T, s *Service) bool {
	t.Helper()
	var n int
	if err := s.db.SQL().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM webhook_deliveries WHERE delivery_id = 'old'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 0
}
