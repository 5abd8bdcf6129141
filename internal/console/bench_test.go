package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

// BenchmarkPages answers every console page over a SQLite store holding
// 10,000 deployments (20 workflows × 500) and 1,000,000 runtime log rows
// (500,000 invocations over the last 24 hours, 3% failed), and reports
// each page's p50 and p99 — the goal is p99 < 50 ms.
//
//	go test ./internal/console -run '^$' -bench Pages -benchtime 200x
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "flowgate.db"), "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	arts, _ := artifact.OpenDir(b.TempDir(), artifact.Options{})
	cipher, _ := secrets.LoadMasterKey("", b.TempDir())
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: arts, Cipher: cipher})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	const workflows, perWorkflow, invocations = 20, 500, 500_000
	if err := svc.EnsureEnvironment(ctx, "prod"); err != nil {
		b.Fatal(err)
	}
	err = db.InTx(ctx, func(q store.Q) error {
		for w := range workflows {
			id := fmt.Sprintf("wf%02d", w)
			if err := q.UpsertWorkflow(ctx, store.Workflow{Env: "prod", ID: id, Trigger: fmt.Sprintf("t%02d", w), File: id + ".ts"}); err != nil {
				return err
			}
			settings, _ := json.Marshal(map[string]string{"id": id, "trigger": "user:tokens_generation"})
			for d := range perWorkflow {
				dep := store.Deployment{ID: fmt.Sprintf("dep_%s_%04d", id, d), Env: "prod", WorkflowID: id, Status: store.Deployed,
					BundleDigest: "x", Settings: settings, CommitSHA: fmt.Sprintf("%040d", d), CreatedAt: now.Add(time.Duration(d-perWorkflow) * time.Minute)}
				if err := q.InsertDeployment(ctx, dep); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	kinds := []string{"thrown", "timeout", "memory", "binding"}
	batch := make([]store.RuntimeLog, 0, 20_000)
	flush := func() {
		if err := db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, batch) }); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range invocations {
		at := now.Add(-24 * time.Hour).Add(time.Duration(i) * (24 * time.Hour / invocations))
		wf := fmt.Sprintf("wf%02d", i%workflows)
		base := store.RuntimeLog{InvocationID: fmt.Sprintf("inv_%07d", i), Env: "prod", WorkflowID: wf, DeploymentID: "dep", Trigger: "t", At: at}
		line, out := base, base
		line.Level, line.Message = "info", "hello ***"
		out.Level, out.Status, out.Message, out.Duration = "info", "succeeded", "invocation succeeded", time.Duration(200+i%800)*time.Microsecond
		if i%33 == 0 {
			out.Level, out.Status, out.Message = "error", "failed", "invocation failed ("+kinds[i%len(kinds)]+"): boom"
		}
		batch = append(batch, line, out)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()

	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	con, err := New(Options{Deploy: svc, Runner: runner, AdminToken: adminToken})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if _, err := con.startSession(context.Background(), rec, "admin", true, nil, ""); err != nil {
		b.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]

	pages := []string{
		"/console/", "/console/env/prod/", "/console/env/prod/workflows/wf07", "/console/env/prod/deployments/dep_wf07_0100",
		"/console/env/prod/syncs", "/console/env/prod/variables", "/console/env/prod/test",
		"/console/env/prod/logs", "/console/env/prod/logs?workflow=wf07", "/console/env/prod/logs?status=failed",
		"/console/env/prod/logs?kind=timeout&since=1h", "/console/env/prod/logs?kind=sandbox-crashed",
		"/console/env/prod/logs?invocation=inv_0250000", "/console/env/prod/logs?workflow=wf07&status=failed",
		"/console/env/prod/charts?range=1h", "/console/env/prod/charts", "/console/env/prod/charts?range=7d",
	}
	for _, p := range pages {
		b.Run(p, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				req := httptest.NewRequest("GET", p, nil)
				req.AddCookie(cookie)
				w := httptest.NewRecorder()
				start := time.Now()
				con.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d", p, w.Code)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[min(len(times)-1, len(times)*99/100)].Microseconds())/1000, "p99-ms")
		})
	}
}
