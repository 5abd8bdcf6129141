package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func openStore(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dbLogs is the log writer's store on a database the test opened itself.
type dbLogs struct{ *store.DB }

func (d dbLogs) AppendRuntimeLogs(ctx context.Context, batch []store.RuntimeLog) error {
	return d.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, batch) })
}

func (d dbLogs) Ping(ctx context.Context) error { return d.SQL().PingContext(ctx) }

func testWriter(db *store.DB, lim logLimits) (*logWriter, prometheus.Counter, prometheus.Counter) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
	trimmed := prometheus.NewCounter(prometheus.CounterOpts{Name: "trimmed"})
	if lim.retention == 0 {
		lim.retention = DefaultRetention
	}
	return newLogWriter(dbLogs{db}, lim, dropped, trimmed, slog.New(slog.NewTextHandler(io.Discard, nil))), dropped, trimmed
}

// One tenant's hostile log line never costs another tenant's logs: text
// the database refuses is sanitised, and a row it still cannot take
// (here an index entry past PostgreSQL's size limit) is written around,
// row by row, losing that row only.
func TestLogWriterOneBadRowCostsOnlyItself(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		db := openStore(t, b.NewURL(t))
		w, dropped, _ := testWriter(db, logLimits{})
		w.add([]store.RuntimeLog{{InvocationID: "a1", Env: "tenant-a", Level: "info", Message: "x\x00y"},
			{InvocationID: "a1", Env: "tenant-a", Level: "error", Message: "invocation failed (thrown): \x00\xff"}})
		big := make([]byte, 20000)
		rand.Read(big)
		bad := store.RuntimeLog{InvocationID: "bad", Env: "tenant-a", WorkflowID: hex.EncodeToString(big), Message: "m"}
		w.add([]store.RuntimeLog{bad})
		w.add([]store.RuntimeLog{{InvocationID: "b1", Env: "tenant-b", Level: "info", Message: "hello"}})
		if err := w.close(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		a, _ := db.RuntimeLogs(ctx, store.LogQuery{Env: "tenant-a", InvocationID: "a1"})
		bl, _ := db.RuntimeLogs(ctx, store.LogQuery{Env: "tenant-b"})
		if len(a) != 2 || a[1].Message != "x\uFFFDy" || a[0].Message != "invocation failed (thrown): \uFFFD\uFFFD" {
			t.Errorf("tenant a's rows: %+v", a)
		}
		if len(bl) != 1 || bl[0].Message != "hello" {
			t.Errorf("tenant b's rows: %+v", bl)
		}
		wantDropped := 0.0
		if b.Name == "postgres" {
			wantDropped = 1 // SQLite has no index entry limit: it stores the row
		}
		if got := testutil.ToFloat64(dropped); got != wantDropped {
			t.Errorf("dropped %v rows, want %v", got, wantDropped)
		}
	})
}

// Each environment keeps at most its quota of rows and of message bytes;
// the oldest go first, are counted, and other environments keep theirs.
func TestLogWriterQuotas(t *testing.T) {
	cases := []struct {
		name      string
		lim       logLimits
		rowsA     int
		wantKeptA int
		msg       string
		wantKeptB int
	}{
		{"rows", logLimits{quotaRows: 40}, 150, 40, "mm", 30},
		{"bytes", logLimits{quotaBytes: 1000}, 150, 100, "0123456789", 30}, // 10 bytes a row: 100 rows fit
		{"within both", logLimits{quotaRows: 1000}, 150, 150, "mm", 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openStore(t, storetest.SQLiteURL(t))
			w, _, trimmed := testWriter(db, c.lim)
			base := time.Now().Add(-time.Hour)
			for i := range c.rowsA {
				w.add([]store.RuntimeLog{{InvocationID: fmt.Sprint("a", i), Env: "a", Message: c.msg, At: base.Add(time.Duration(i) * time.Second)}})
			}
			for i := range c.wantKeptB {
				w.add([]store.RuntimeLog{{InvocationID: fmt.Sprint("b", i), Env: "b", Message: "b", At: base}})
			}
			ctx := context.Background()
			if err := w.close(ctx); err != nil {
				t.Fatal(err)
			}
			w.enforceQuotas(ctx)
			tot, err := db.RuntimeLogTotals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tot["a"].Rows != int64(c.wantKeptA) || tot["b"].Rows != int64(c.wantKeptB) {
				t.Fatalf("kept a=%d b=%d, want %d and %d", tot["a"].Rows, tot["b"].Rows, c.wantKeptA, c.wantKeptB)
			}
			if got := testutil.ToFloat64(trimmed); got != float64(c.rowsA-c.wantKeptA) {
				t.Fatalf("trimmed counted %v, want %d", got, c.rowsA-c.wantKeptA)
			}
			rows, _ := db.RuntimeLogs(ctx, store.LogQuery{Env: "a", Limit: 1000})
			if len(rows) != c.wantKeptA || rows[len(rows)-1].InvocationID != fmt.Sprint("a", c.rowsA-c.wantKeptA) {
				t.Fatalf("the oldest did not go first: oldest kept %s", rows[len(rows)-1].InvocationID)
			}
		})
	}
}
