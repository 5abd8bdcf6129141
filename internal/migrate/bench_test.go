package migrate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

// BenchmarkMigrate moves a large embedded store to PostgreSQL: 10,000
// deployments over 100 workflows (1,000 distinct 4 KiB artifacts) and
// 1,000,000 runtime log rows; then times the run that finds nothing to do.
// Run with -benchtime=1x: one iteration is the whole migration.
func BenchmarkMigrate(b *testing.B) {
	ctx := context.Background()
	src := storetest.SQLiteURL(b)
	arts := newDirStore(b)
	db, err := store.Open(ctx, src, "")
	if err != nil {
		b.Fatal(err)
	}
	mustExec(b, db, `INSERT INTO environments (name, created_at) VALUES ('production', 1)`)
	var digests []string
	for i := range 1000 {
		d, err := arts.Put(ctx, []byte(fmt.Sprintf("%04d", i)+strings.Repeat("x", 4092)))
		if err != nil {
			b.Fatal(err)
		}
		digests = append(digests, d)
	}
	tx, err := db.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := tx.Exec(q, args...); err != nil {
			b.Fatal(err)
		}
	}
	for w := range 100 {
		exec(`INSERT INTO workflows (env, id, trigger, created_at, updated_at) VALUES ('production', ?, ?, 1, 1)`, fmt.Sprintf("wf%d", w), fmt.Sprintf("user:t%d", w))
		for d := range 100 {
			status := "Superseded"
			if d == 99 {
				status = "Live"
			}
			exec(`INSERT INTO deployments (id, env, workflow_id, status, bundle_digest, settings, created_at) VALUES (?, 'production', ?, ?, ?, '{"timeoutMs":1000}', ?)`,
				fmt.Sprintf("dep_%d_%d", w, d), fmt.Sprintf("wf%d", w), status, digests[(w*100+d)%1000], d)
		}
		exec(`INSERT INTO live (env, workflow_id, trigger, deployment_id, updated_at) VALUES ('production', ?, ?, ?, 1)`, fmt.Sprintf("wf%d", w), fmt.Sprintf("user:t%d", w), fmt.Sprintf("dep_%d_99", w))
	}
	const logs = 1_000_000
	const per = 500
	stmt := `INSERT INTO runtime_logs (invocation_id, env, workflow_id, deployment_id, trigger, level, message, status, duration_us, at) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, 'production', 'wf1', 'dep_1_99', 'user:t1', 'info', ?, 'succeeded', 1234, ?),`, per), ",")
	args := make([]any, 0, per*3)
	for i := 0; i < logs; i += per {
		args = args[:0]
		for j := i; j < i+per; j++ {
			args = append(args, fmt.Sprintf("inv_%d", j/3), fmt.Sprintf("claims added for kp_%d", j), int64(j))
		}
		exec(stmt, args...)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	db.Close()

	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dst := storetest.PostgresURL(b)
		to := newDirStore(b)
		b.StartTimer()
		start := time.Now()
		rep, err := Run(ctx, Options{FromDB: src, ToDB: dst, From: arts, To: to})
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(start)
		start = time.Now()
		again, err := Run(ctx, Options{FromDB: src, ToDB: dst, From: arts, To: to})
		if err != nil {
			b.Fatal(err)
		}
		second := time.Since(start)
		if again.Changed() != 0 || rep.Artifacts != 1000 {
			b.Fatalf("second run changed %d; %d artifacts", again.Changed(), rep.Artifacts)
		}
		b.ReportMetric(first.Seconds(), "s/migration")
		b.ReportMetric(second.Seconds(), "s/noop-rerun")
		b.ReportMetric(float64(logs+10_000)/first.Seconds(), "rows/s")
	}
}
