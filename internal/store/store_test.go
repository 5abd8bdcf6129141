package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func open(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seed creates env "prod" with workflow "wf" and n deployments (Deployed).
func seed(t *testing.T, db *store.DB, n int) []store.Deployment {
	t.Helper()
	ctx := context.Background()
	must(t, db.EnsureEnvironment(ctx, "prod"))
	must(t, db.UpsertWorkflow(ctx, store.Workflow{Env: "prod", ID: "wf", Trigger: "user:tokens_generation", Name: "WF", File: "a.ts"}))
	var out []store.Deployment
	for i := 0; i < n; i++ {
		d := store.Deployment{ID: "dep_" + string(rune('a'+i)), Env: "prod", WorkflowID: "wf", Status: store.Deployed,
			BundleDigest: "b", Settings: json.RawMessage(`{"id":"wf","trigger":"user:tokens_generation"}`),
			CommitSHA: "c", CreatedAt: time.Unix(int64(1000+i), 0)}
		must(t, db.InsertDeployment(ctx, d))
		out = append(out, d)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrationsIdempotentAndConcurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		url := b.NewURL(t)
		// Several "replicas" start at once: each migration must run once.
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := store.Open(context.Background(), url, "")
				if err == nil {
					db.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		db := open(t, url)
		v, err := db.SchemaVersion(context.Background())
		must(t, err)
		if v < 1 {
			t.Fatalf("schema version = %d", v)
		}
	})
}

func TestNewerDatabaseRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		url := b.NewURL(t)
		db := open(t, url)
		_, err := db.SQL().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`)
		must(t, err)
		if _, err := store.Open(context.Background(), url, ""); err == nil {
			t.Fatal("opening a database migrated by a newer Flowgate succeeded")
		}
	})
}

func TestEnvironments(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		must(t, db.EnsureEnvironment(ctx, "prod"))
		must(t, db.EnsureEnvironment(ctx, "prod")) // idempotent
		e, err := db.Environment(ctx, "prod")
		must(t, err)
		if e.PreviewMode || e.RuntimeTokenHash != "" {
			t.Fatalf("new environment = %+v, want preview off, no token", e)
		}
		must(t, db.SetPreviewMode(ctx, "prod", true))
		must(t, db.SetRuntimeTokenHash(ctx, "prod", "h"))
		e, _ = db.Environment(ctx, "prod")
		if !e.PreviewMode || e.RuntimeTokenHash != "h" {
			t.Fatalf("environment = %+v", e)
		}
		if _, err := db.Environment(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing environment: err = %v", err)
		}
		if err := db.SetPreviewMode(ctx, "nope", true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing environment update: err = %v", err)
		}
	})
}

func TestOneLiveDeploymentEnforcedByIndex(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		deps := seed(t, db, 2)
		must(t, db.SetDeploymentStatus(ctx, deps[0].ID, store.Live))
		if err := db.SetDeploymentStatus(ctx, deps[1].ID, store.Live); err == nil {
			t.Fatal("a second Live deployment of one workflow was accepted")
		}
		// A failed transaction leaves nothing behind.
		err := db.InTx(ctx, func(q store.Q) error {
			must(t, q.SetDeploymentStatus(ctx, deps[0].ID, store.Deployed))
			return errors.New("boom")
		})
		if err == nil {
			t.Fatal("InTx returned nil")
		}
		d, _ := db.Deployment(ctx, deps[0].ID)
		if d.Status != store.Live {
			t.Fatalf("rolled-back status = %s", d.Status)
		}
	})
}

func TestLivePointersAndVersion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		deps := seed(t, db, 1)
		v0, err := db.LiveVersion(ctx, "prod")
		must(t, err)
		must(t, db.InTx(ctx, func(q store.Q) error {
			must(t, q.BumpLiveVersion(ctx, "prod"))
			return q.SetLive(ctx, "prod", "wf", "user:tokens_generation", deps[0].ID)
		}))
		v1, _ := db.LiveVersion(ctx, "prod")
		if v1 != v0+1 {
			t.Fatalf("version %d -> %d", v0, v1)
		}
		lds, err := db.LiveDeployments(ctx, "prod")
		must(t, err)
		if len(lds) != 1 || lds[0].DeploymentID != deps[0].ID || lds[0].BundleDigest != "b" {
			t.Fatalf("live = %+v", lds)
		}
		// Another workflow cannot take the same trigger.
		must(t, db.UpsertWorkflow(ctx, store.Workflow{Env: "prod", ID: "other", Trigger: "user:tokens_generation"}))
		must(t, db.InsertDeployment(ctx, store.Deployment{ID: "dep_o", Env: "prod", WorkflowID: "other", Status: store.Deployed, CreatedAt: time.Now()}))
		if err := db.SetLive(ctx, "prod", "other", "user:tokens_generation", "dep_o"); err == nil {
			t.Fatal("two live workflows on one trigger were accepted")
		}
		// A pointer to a deployment that does not exist is refused.
		if err := db.SetLive(ctx, "prod", "wf", "user:tokens_generation", "dep_missing"); err == nil {
			t.Fatal("live pointer to a missing deployment was accepted")
		}
		must(t, db.ClearLive(ctx, "prod", "wf"))
		if id, _ := db.LivePointer(ctx, "prod", "wf"); id != "" {
			t.Fatalf("pointer after clear = %q", id)
		}
	})
}

func TestSyncsAndFlips(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		must(t, db.EnsureEnvironment(ctx, "prod"))
		now := time.Now()
		must(t, db.InsertSync(ctx, store.Sync{ID: "s1", Env: "prod", CommitSHA: "abc", Status: store.SyncRunning, RequestedAt: now, StartedAt: now}))
		log := []store.SyncLogEntry{{WorkflowID: "wf", Severity: "error", Rule: "missing-id", Message: "m", Line: 3, Column: 2}}
		must(t, db.FinishSync(ctx, "s1", store.SyncFailed, log, "1 error", now))
		s, err := db.Sync(ctx, "s1")
		must(t, err)
		if s.Status != store.SyncFailed || len(s.Log) != 1 || s.Log[0] != log[0] || s.Error != "1 error" {
			t.Fatalf("sync = %+v", s)
		}
		must(t, db.PutCheckRun(ctx, "s1", "sync", 42))
		must(t, db.PutCheckRun(ctx, "s1", "sync", 43))
		runs, _ := db.CheckRuns(ctx, "s1")
		if runs["sync"] != 43 {
			t.Fatalf("check runs = %v", runs)
		}
		newer, _ := db.NewerSucceededSync(ctx, "prod", now.Add(-time.Second))
		if newer {
			t.Fatal("failed sync counted as a newer success")
		}
		must(t, db.AppendFlip(ctx, store.Flip{Env: "prod", WorkflowID: "wf", ToDeployment: "d1", Action: store.ActionAutoLive, Actor: "sync"}))
		must(t, db.AppendFlip(ctx, store.Flip{Env: "prod", WorkflowID: "wf", FromDeployment: "d1", ToDeployment: "d2", Action: store.ActionMakeLive, Actor: "admin", Reason: "r"}))
		fl, _ := db.Flips(ctx, "prod", "wf", 10)
		if len(fl) != 2 || fl[0].ToDeployment != "d2" || fl[0].Reason != "r" || fl[1].ToDeployment != "d1" {
			t.Fatalf("flips = %+v", fl)
		}
	})
}

func TestVariablesKeysDeliveriesLogs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		seed(t, db, 0)
		// Variables: bytes round-trip, replace, delete.
		must(t, db.PutVariable(ctx, store.Variable{Env: "prod", Name: "A", Value: []byte{0, 1, 255}, Secret: true}))
		must(t, db.PutVariable(ctx, store.Variable{Env: "prod", Name: "A", Value: []byte("x")}))
		v, err := db.Variable(ctx, "prod", "A")
		must(t, err)
		if string(v.Value) != "x" || v.Secret {
			t.Fatalf("variable = %+v", v)
		}
		must(t, db.DeleteVariable(ctx, "prod", "A"))
		if err := db.DeleteVariable(ctx, "prod", "A"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		// Keys: one active per workflow.
		must(t, db.InsertEncryptionKey(ctx, store.EncryptionKey{ID: "k1", Env: "prod", WorkflowID: "wf", Sealed: []byte("s1"), Active: true, CreatedAt: time.Now()}))
		if err := db.InsertEncryptionKey(ctx, store.EncryptionKey{ID: "k2", Env: "prod", WorkflowID: "wf", Sealed: []byte("s2"), Active: true, CreatedAt: time.Now()}); err == nil {
			t.Fatal("two active keys accepted")
		}
		must(t, db.InsertEncryptionKey(ctx, store.EncryptionKey{ID: "k2", Env: "prod", WorkflowID: "wf", Sealed: []byte("s2"), CreatedAt: time.Now()}))
		must(t, db.SetKeyActive(ctx, "prod", "wf", "k2", true))
		keys, _ := db.EncryptionKeys(ctx, "prod", "wf")
		if len(keys) != 2 || keys[0].Active || !keys[1].Active {
			t.Fatalf("keys = %+v", keys)
		}
		if ok, _ := db.DeleteInactiveKey(ctx, "prod", "wf", "k2"); ok {
			t.Fatal("active key deleted")
		}
		if ok, _ := db.DeleteInactiveKey(ctx, "prod", "wf", "k1"); !ok {
			t.Fatal("inactive key not deleted")
		}
		// Deliveries: the second sighting is a duplicate.
		first, err := db.RecordDelivery(ctx, "d-1", time.Now())
		must(t, err)
		again, _ := db.RecordDelivery(ctx, "d-1", time.Now())
		if !first || again {
			t.Fatalf("delivery first=%v again=%v", first, again)
		}
		// Runtime logs: filter, page, retention.
		old := time.Now().Add(-48 * time.Hour)
		must(t, db.AppendRuntimeLogs(ctx, []store.RuntimeLog{
			{InvocationID: "i1", Env: "prod", WorkflowID: "wf", Level: "info", Message: "old", At: old},
			{InvocationID: "i2", Env: "prod", WorkflowID: "wf", Level: "info", Message: "new", Status: "succeeded", Duration: 1500 * time.Microsecond},
			{InvocationID: "i3", Env: "prod", WorkflowID: "other", Level: "error", Message: "x"},
		}))
		logs, err := db.RuntimeLogs(ctx, store.LogQuery{Env: "prod", WorkflowID: "wf"})
		must(t, err)
		if len(logs) != 2 || logs[0].Message != "new" || logs[0].Duration != 1500*time.Microsecond {
			t.Fatalf("logs = %+v", logs)
		}
		page, _ := db.RuntimeLogs(ctx, store.LogQuery{Env: "prod", BeforeSeq: logs[0].Seq})
		if len(page) != 1 || page[0].Message != "old" {
			t.Fatalf("page = %+v", page)
		}
		n, err := db.PruneRuntimeLogs(ctx, time.Now().Add(-24*time.Hour), 100)
		must(t, err)
		if n != 1 {
			t.Fatalf("retention deleted %d rows, want 1", n)
		}
		tot, err := db.RuntimeLogTotals(ctx)
		must(t, err)
		if tot["prod"] != (store.LogTotal{Rows: 2, Bytes: 4}) {
			t.Fatalf("totals after retention = %+v, want 2 rows of 4 bytes (new, x)", tot["prod"])
		}
	})
}

func TestPreviewFailureWindow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := open(t, b.NewURL(t))
		deps := seed(t, db, 1)
		now := time.Now()
		for i := 1; i <= 3; i++ {
			n, err := db.ReservePreviewAttempt(ctx, deps[0].ID, now, time.Minute)
			if err != nil || n != i {
				t.Fatalf("attempt %d counted as %d, %v", i, n, err)
			}
		}
		g, _ := db.PreviewGuard(ctx, deps[0].ID)
		if g.Failures != 3 {
			t.Fatalf("failures = %d", g.Failures)
		}
		// After the window an attempt starts a new count.
		if n, err := db.ReservePreviewAttempt(ctx, deps[0].ID, now.Add(2*time.Minute), time.Minute); err != nil || n != 1 {
			t.Fatalf("attempt after window counted as %d, %v", n, err)
		}
		if _, err := db.ReservePreviewAttempt(ctx, "dep_missing", now, time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing deployment: %v", err)
		}
	})
}
