package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"

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

func testWriter(db *store.DB) (*logWriter, prometheus.Counter) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
	return newLogWriter(dbLogs{db}, 0, dropped, slog.New(slog.NewTextHandler(io.Discard, nil))), dropped
}

// One tenant's hostile log line never costs another tenant's logs: text
// the database refuses is sanitised, and a row it still cannot take
// (here an index entry past PostgreSQL's size limit) is written around,
// row by row, losing that row only.
func TestLogWriterOneBadRowCostsOnlyItself(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		db := openStore(t, b.NewURL(t))
		w, dropped := testWriter(db)
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
