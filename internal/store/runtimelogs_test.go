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

// Whatever a workflow logs is stored: text PostgreSQL refuses (NUL,
// invalid UTF-8) is sanitised per row, so one tenant's line never fails
// the batch it shares with other tenants.
func TestRuntimeLogTextIsSanitised(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"nul", "x\x00y", "x\uFFFDy"},
		{"only nul", "\x00", "\uFFFD"},
		{"invalid utf8", "a\xff\xfeb", "a\uFFFDb"},
		{"lone surrogate bytes", "\xed\xa0\x80", "\uFFFD"},
		{"clean", "héllo ✓", "héllo ✓"},
	}
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		var rows []store.RuntimeLog
		for i, c := range cases {
			rows = append(rows, store.RuntimeLog{InvocationID: fmt.Sprint("i", i), Env: "tenant-" + c.name, Level: "info", Message: c.in})
		}
		rows = append(rows, store.RuntimeLog{InvocationID: "other", Env: "other\x00tenant", Level: "info\xff", Message: "fine"})
		must(t, db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, rows) }))
		for i, c := range cases {
			got, err := db.RuntimeLogs(ctx, store.LogQuery{Env: "tenant-" + c.name})
			must(t, err)
			if len(got) != 1 || got[0].Message != c.want || got[0].InvocationID != fmt.Sprint("i", i) {
				t.Errorf("%s: stored %+v, want message %q", c.name, got, c.want)
			}
		}
		got, _ := db.RuntimeLogs(ctx, store.LogQuery{Env: "other\uFFFDtenant"})
		if len(got) != 1 || got[0].Level != "info\uFFFD" {
			t.Errorf("sanitised env/level: %+v", got)
		}
	})
}

// Retention and quotas delete in bounded batches, oldest first, and keep
// the per-environment totals exact.
func TestRuntimeLogPruneAndTrim(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		base := time.Now().Add(-time.Hour)
		var rows []store.RuntimeLog
		for i := range 250 { // more than one INSERT chunk
			env := "a"
			if i%5 == 0 {
				env = "b"
			}
			rows = append(rows, store.RuntimeLog{InvocationID: fmt.Sprint(i), Env: env, Message: strings.Repeat("m", i%7), At: base.Add(time.Duration(i) * time.Second)})
		}
		must(t, db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, rows) }))
		want := map[string]store.LogTotal{}
		for _, r := range rows {
			t := want[r.Env]
			t.Rows++
			t.Bytes += int64(len(r.Message))
			want[r.Env] = t
		}
		checkTotals := func(what string) {
			t.Helper()
			got, err := db.RuntimeLogTotals(ctx)
			must(t, err)
			for env, w := range want {
				if got[env] != w {
					t.Fatalf("%s: totals[%s] = %+v, want %+v", what, env, got[env], w)
				}
			}
		}
		checkTotals("after insert")

		// Retention: the 100 oldest rows, at most 30 per call.
		cut := base.Add(100 * time.Second)
		var calls int
		for {
			n, err := db.PruneRuntimeLogs(ctx, cut, 30)
			must(t, err)
			if n > 30 {
				t.Fatalf("one prune call deleted %d rows, limit 30", n)
			}
			if n == 0 {
				break
			}
			calls++
		}
		if calls != 4 {
			t.Fatalf("pruned in %d calls, want 4 (30+30+30+10)", calls)
		}
		for _, r := range rows[:100] {
			t := want[r.Env]
			t.Rows--
			t.Bytes -= int64(len(r.Message))
			want[r.Env] = t
		}
		checkTotals("after retention")

		// Quota: env a's 10 oldest go, nothing of b.
		n, err := db.TrimRuntimeLogs(ctx, "a", 10)
		must(t, err)
		if n != 10 {
			t.Fatalf("trim deleted %d, want 10", n)
		}
		var gone []store.RuntimeLog
		for _, r := range rows[100:] {
			if r.Env == "a" && len(gone) < 10 {
				gone = append(gone, r)
			}
		}
		for _, r := range gone {
			t := want["a"]
			t.Rows--
			t.Bytes -= int64(len(r.Message))
			want["a"] = t
		}
		checkTotals("after trim")
		left, _ := db.RuntimeLogs(ctx, store.LogQuery{Env: "a", Limit: 1000})
		oldest := left[len(left)-1]
		if oldest.InvocationID == gone[len(gone)-1].InvocationID || !oldest.At.After(gone[len(gone)-1].At) {
			t.Fatalf("trim did not take the oldest first: oldest left %s at %s", oldest.InvocationID, oldest.At)
		}
	})
}

// Batches of any size are stored whole, full chunks through the prepared
// statement (SQLite) and the rest as plain statements, inside and outside
// a transaction, and the totals count every row — also after a batch the
// database refused rolled back.
func TestRuntimeLogBatchSizes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		want := int64(0)
		for _, n := range []int{1, 99, 100, 101, 250, 512} {
			rows := make([]store.RuntimeLog, n)
			for i := range rows {
				rows[i] = store.RuntimeLog{InvocationID: fmt.Sprint("b", n, "-", i), Env: "prod", Level: "info", Message: "m"}
			}
			must(t, db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, rows) }))
			want += int64(n)
		}
		// Outside a transaction too (the store's own executor).
		must(t, db.AppendRuntimeLogs(ctx, make100("direct")))
		want += 100
		// A batch that fails after its first chunk leaves nothing behind.
		err := db.InTx(ctx, func(q store.Q) error {
			if err := q.AppendRuntimeLogs(ctx, make100("rolled-back")); err != nil {
				return err
			}
			return fmt.Errorf("abort")
		})
		if err == nil {
			t.Fatal("the aborted batch committed")
		}
		tot, err := db.RuntimeLogTotals(ctx)
		must(t, err)
		if tot["prod"].Rows != want || tot["prod"].Bytes != want {
			t.Errorf("totals = %+v, want %d rows and bytes", tot["prod"], want)
		}
		for id, n := range map[string]int{"b1-0": 1, "b100-99": 1, "b101-100": 1, "b250-249": 1, "b512-511": 1, "direct99": 1, "rolled-back0": 0} {
			got, err := db.RuntimeLogs(ctx, store.LogQuery{Env: "prod", InvocationID: id})
			must(t, err)
			if len(got) != n {
				t.Errorf("%s: %d rows, want %d", id, len(got), n)
			}
		}
	})
}

func make100(prefix string) []store.RuntimeLog {
	rows := make([]store.RuntimeLog, 100)
	for i := range rows {
		rows[i] = store.RuntimeLog{InvocationID: fmt.Sprint(prefix, i), Env: "prod", Level: "info", Message: "m"}
	}
	return rows
}
