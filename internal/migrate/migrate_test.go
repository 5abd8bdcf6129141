package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

// fixture is a populated source store: a row in every carried table.
type fixture struct {
	db      string
	arts    artifact.Store
	artsDir string
	digests []string
}

func mustExec(t testing.TB, db *store.DB, query string, args ...any) {
	t.Helper()
	if db.Dialect() == store.Postgres {
		n := 0
		query = rebindTest(query, &n)
	}
	if _, err := db.SQL().Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func rebindTest(q string, n *int) string {
	var b strings.Builder
	for _, c := range q {
		if c == '?' {
			*n++
			fmt.Fprintf(&b, "$%d", *n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// populate writes a row (or several) into every table of the schema that
// is carried. A table it does not know gets a synthesised row when it has
// no foreign keys; otherwise the test fails, asking for a fixture row, so
// a new table is never left untested by the migration.
func populate(t testing.TB, spec string, arts artifact.Store) []string {
	t.Helper()
	ctx := context.Background()
	d1, err := arts.Put(ctx, []byte("bundle one"))
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := arts.Put(ctx, []byte("source map one"))
	db, err := store.Open(ctx, spec, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := func(v bool) any {
		if db.Dialect() == store.Postgres {
			return v
		}
		if v {
			return 1
		}
		return 0
	}
	mustExec(t, db, `INSERT INTO environments (name, preview_mode, runtime_token_hash, created_at) VALUES ('production', ?, 'token-hash', 1)`, b(true))
	mustExec(t, db, `INSERT INTO github_installations (id, account, created_at) VALUES (7, 'acme', 2)`)
	mustExec(t, db, `INSERT INTO sources (env, kind, ref, branch, installation_id, updated_at, repo_id) VALUES ('production', 'github', 'acme/wf', 'main', 7, 3, 99)`)
	mustExec(t, db, `INSERT INTO webhook_deliveries (delivery_id, received_at) VALUES ('d-1', 4), ('d-2', 5)`)
	mustExec(t, db, `INSERT INTO syncs (id, env, commit_sha, status, started_at, log) VALUES ('s1', 'production', 'abc', 'succeeded', 6, '[{"m":"ok"}]')`)
	mustExec(t, db, `INSERT INTO sync_check_runs (sync_id, name, check_run_id) VALUES ('s1', 'flowgate', 55)`)
	mustExec(t, db, `INSERT INTO workflows (env, id, trigger, name, file, deleted, created_at, updated_at) VALUES ('production', 'wf', 'user:tokens_generation', 'WF', 'a.ts', ?, 7, 8)`, b(false))
	mustExec(t, db, `INSERT INTO deployments (id, env, workflow_id, status, bundle_digest, source_map_digest, created_at, preview_password_hash) VALUES
		('dep1', 'production', 'wf', 'Superseded', ?, ?, 9, 'pw-hash'), ('dep2', 'production', 'wf', 'Live', ?, '', 10, '')`, d1, d2, d1)
	mustExec(t, db, `INSERT INTO live (env, workflow_id, trigger, deployment_id, updated_at) VALUES ('production', 'wf', 'user:tokens_generation', 'dep2', 11)`)
	mustExec(t, db, `INSERT INTO live_history (env, workflow_id, from_deployment, to_deployment, action, actor, reason, at) VALUES
		('production', 'wf', '', 'dep1', 'make-live', 'me', '', 12), ('production', 'wf', 'dep1', 'dep2', 'make-live', 'me', 'newer', 13)`)
	mustExec(t, db, `INSERT INTO live_versions (env, version) VALUES ('production', 2)`)
	mustExec(t, db, `INSERT INTO env_variables (env, name, value, is_secret, updated_at) VALUES ('production', 'API_KEY', ?, ?, 14), ('production', 'PLAIN', ?, ?, 15)`,
		[]byte{0, 1, 2, 255, 'x'}, b(true), []byte("plain"), b(false))
	mustExec(t, db, `INSERT INTO encryption_keys (id, env, workflow_id, sealed, active, created_at) VALUES ('k1', 'production', 'wf', ?, ?, 16)`, []byte{9, 8, 7, 0}, b(true))
	for i := range 50 {
		mustExec(t, db, `INSERT INTO runtime_logs (invocation_id, env, workflow_id, deployment_id, trigger, level, message, status, duration_us, at) VALUES (?, 'production', 'wf', 'dep2', 'user:tokens_generation', 'info', ?, 'ok', 5, ?)`,
			fmt.Sprintf("inv-%d", i), fmt.Sprintf("line %d ünïcode", i), 100+i)
	}
	mustExec(t, db, `INSERT INTO github_repos (repo, installation_id, updated_at, removed_at, suspended_at) VALUES ('acme/wf', 7, 17, 0, 0)`)
	mustExec(t, db, `INSERT INTO reseal_runs (id, state, created_at, updated_at) VALUES ('r1', 'done', 18, 19)`)
	mustExec(t, db, `INSERT INTO recording_settings (env, settings, pii_key, updated_at) VALUES ('production', '{"enabled":true}', ?, 20)`, []byte{1, 2, 3, 0})

	// Tables this fixture does not know: synthesise a row, or ask for one.
	names, err := listTables(ctx, db.SQL(), db.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if ExcludedReason(n) != "" {
			continue
		}
		var rows int
		db.SQL().QueryRow(`SELECT COUNT(*) FROM ` + quote(n)).Scan(&rows)
		if rows > 0 {
			continue
		}
		tb, err := describe(ctx, db.SQL(), db.Dialect(), n)
		if err != nil {
			t.Fatal(err)
		}
		if len(tb.refs) > 0 {
			t.Fatalf("table %s is carried by the migration but has no fixture row here: add one to populate (or exclude it in excludedPrefixes with a reason)", n)
		}
		var cols, ph []string
		var args []any
		for _, c := range tb.cols {
			if c.identity {
				continue
			}
			cols = append(cols, quote(c.name))
			ph = append(ph, "?")
			switch c.kind {
			case "bool":
				args = append(args, b(true))
			case "int":
				args = append(args, 1)
			case "bytes":
				args = append(args, []byte{1})
			default:
				args = append(args, "x")
			}
		}
		mustExec(t, db, `INSERT INTO `+quote(n)+` (`+strings.Join(cols, ", ")+`) VALUES (`+strings.Join(ph, ", ")+`)`, args...)
	}
	return []string{d1, d2}
}

func newFixture(t testing.TB, spec string) fixture {
	t.Helper()
	dir := t.TempDir()
	arts, err := artifact.OpenDir(dir, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := populate(t, spec, arts)
	return fixture{db: spec, arts: arts, artsDir: dir, digests: ds}
}

func newDirStore(t testing.TB) artifact.Store {
	t.Helper()
	s, err := artifact.OpenDir(t.TempDir(), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameRows checks that two stores hold the same rows in every carried table.
func sameRows(t *testing.T, a, b string) {
	t.Helper()
	ctx := context.Background()
	da, err := store.Open(ctx, a, "")
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	db, err := store.Open(ctx, b, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := plan(ctx, da.SQL(), da.Dialect(), db.SQL(), db.Dialect(), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		x, err := tableDigest(ctx, da.SQL(), tb)
		if err != nil {
			t.Fatal(err)
		}
		y, err := tableDigest(ctx, db.SQL(), tb)
		if err != nil {
			t.Fatal(err)
		}
		if x != y || x.rows == 0 {
			t.Errorf("table %s: %d rows vs %d (digests equal: %v)", tb.name, x.rows, y.rows, x == y)
		}
	}
}

// TestEveryTableCarriedOrExcluded: every table of the schema, on both
// dialects, is either carried by a migration (and arrives with its rows)
// or excluded with a reason.
func TestEveryTableCarriedOrExcluded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, be storetest.Backend) {
		ctx := context.Background()
		f := newFixture(t, be.NewURL(t))
		rep, err := Run(ctx, Options{FromDB: f.db, ToDB: storetest.SQLiteURL(t), From: f.arts, To: newDirStore(t)})
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(ctx, f.db, "")
		if err != nil {
			t.Fatal(err)
		}
		names, err := listTables(ctx, db.SQL(), db.Dialect())
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		carried := map[string]TableReport{}
		for _, tr := range rep.Tables {
			carried[tr.Name] = tr
		}
		for _, n := range names {
			tr, ok := carried[n]
			switch {
			case ok && tr.SourceRows == 0:
				t.Errorf("table %s carried without rows: the fixture does not exercise it", n)
			case !ok && rep.Excluded[n] == "":
				t.Errorf("table %s is neither carried nor excluded", n)
			}
		}
		if _, ok := carried["schema_migrations"]; ok {
			t.Error("schema_migrations must not be carried")
		}
	})
}

// TestRoundTrip moves SQLite to PostgreSQL and back: every row and
// artifact arrives, a second run changes nothing, and PostgreSQL's
// identity sequences continue after the copied keys.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLiteURL(t))
	pg := storetest.PostgresURL(t)
	pgArts := newDirStore(t)
	rep, err := Run(ctx, Options{FromDB: f.db, ToDB: pg, From: f.arts, To: pgArts})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Artifacts != 2 || rep.ArtifactsCopied != 2 {
		t.Fatalf("artifacts: %d named, %d copied", rep.Artifacts, rep.ArtifactsCopied)
	}
	sameRows(t, f.db, pg)
	for _, d := range f.digests {
		if _, err := pgArts.Get(ctx, d); err != nil {
			t.Fatalf("artifact %s: %v", d, err)
		}
	}
	again, err := Run(ctx, Options{FromDB: f.db, ToDB: pg, From: f.arts, To: pgArts})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() != 0 {
		t.Fatalf("second run changed %d", again.Changed())
	}
	for _, tr := range again.Tables {
		if !tr.AlreadySame {
			t.Errorf("second run: table %s not already identical", tr.Name)
		}
	}

	// The service's next log row on PostgreSQL gets a fresh key.
	db, err := store.Open(ctx, pg, "")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `INSERT INTO runtime_logs (invocation_id, env, at) VALUES ('after', 'production', 1)`)
	var seq int64
	db.SQL().QueryRow(`SELECT seq FROM runtime_logs WHERE invocation_id = 'after'`).Scan(&seq)
	db.Close()
	if seq <= 50 {
		t.Fatalf("new row got seq %d, colliding with copied keys", seq)
	}

	// And back to SQLite.
	back := storetest.SQLiteURL(t)
	if _, err := Run(ctx, Options{FromDB: pg, ToDB: back, From: pgArts, To: newDirStore(t)}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, pg, back)
}

// TestResume: rows changed, added and deleted at the source after a run
// (the old service keeps serving) are brought over by the next run.
func TestResume(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLiteURL(t))
	pg := storetest.PostgresURL(t)
	to := newDirStore(t)
	if _, err := Run(ctx, Options{FromDB: f.db, ToDB: pg, From: f.arts, To: to}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, f.db, "")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `UPDATE live SET deployment_id = 'dep1', updated_at = 99`)
	mustExec(t, db, `UPDATE deployments SET status = 'Superseded' WHERE id = 'dep2'`)
	mustExec(t, db, `UPDATE deployments SET status = 'Live' WHERE id = 'dep1'`)
	mustExec(t, db, `DELETE FROM webhook_deliveries WHERE delivery_id = 'd-1'`)
	mustExec(t, db, `INSERT INTO runtime_logs (invocation_id, env, at) VALUES ('late', 'production', 500)`)
	db.Close()
	rep, err := Run(ctx, Options{FromDB: f.db, ToDB: pg, From: f.arts, To: to})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]TableReport{}
	for _, tr := range rep.Tables {
		got[tr.Name] = tr
	}
	if got["live"].Written != 1 || got["webhook_deliveries"].Deleted != 1 || got["runtime_logs"].Written != 1 || got["deployments"].Written != 2 {
		t.Fatalf("resume wrote %+v", rep.Tables)
	}
	sameRows(t, f.db, pg)
}

// TestExtraTable: a table another migration added (in both dialects) is
// carried with no code change.
func TestExtraTable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLiteURL(t))
	pg := storetest.PostgresURL(t)
	for _, spec := range []string{f.db, pg} {
		db, err := store.Open(ctx, spec, "")
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `CREATE TABLE zz_added_elsewhere (id TEXT PRIMARY KEY, env TEXT NOT NULL REFERENCES environments(name), n BIGINT NOT NULL)`)
		if spec == f.db {
			mustExec(t, db, `INSERT INTO zz_added_elsewhere VALUES ('a', 'production', 1), ('b', 'production', 2)`)
		}
		db.Close()
	}
	rep, err := Run(ctx, Options{FromDB: f.db, ToDB: pg, From: f.arts, To: newDirStore(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range rep.Tables {
		if tr.Name == "zz_added_elsewhere" {
			if tr.Written != 2 {
				t.Fatalf("extra table: %+v", tr)
			}
			for _, before := range rep.Tables[:i] {
				if before.Name == "environments" {
					return
				}
			}
			t.Fatal("the extra table was copied before the table its foreign key names")
		}
	}
	t.Fatal("the extra table was not carried")
}

// TestDryRun writes no row and no artifact.
func TestDryRun(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLiteURL(t))
	dst := storetest.SQLiteURL(t)
	to := newDirStore(t)
	rep, err := Run(ctx, Options{FromDB: f.db, ToDB: dst, From: f.arts, To: to, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), "would copy") || !strings.Contains(out.String(), "2 would move") {
		t.Fatalf("dry run output:\n%s", out.String())
	}
	if n, err := rowsIn(ctx, dst); err != nil || n != 0 {
		t.Fatalf("dry run wrote %d rows (%v)", n, err)
	}
	for _, d := range f.digests {
		if ok, _ := to.Has(ctx, d); ok {
			t.Fatal("dry run wrote an artifact")
		}
	}
	// A dry run reports an artifact the source lacks instead of stopping.
	if err := os.Remove(filepath.Join(f.artsDir, "sha256", f.digests[1][:2], f.digests[1])); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(ctx, Options{FromDB: f.db, ToDB: dst, From: f.arts, To: to, DryRun: true})
	if err != nil || len(rep.ArtifactsMissing) != 1 {
		t.Fatalf("dry run with a missing artifact: %v %v", rep.ArtifactsMissing, err)
	}
	out.Reset()
	rep.Print(&out)
	if !strings.Contains(out.String(), "missing from the source") {
		t.Fatalf("dry run output:\n%s", out.String())
	}
	if _, err := Run(ctx, Options{FromDB: f.db, ToDB: dst, From: f.arts, To: to}); !errors.Is(err, artifact.ErrNotFound) {
		t.Fatalf("migration with a missing artifact: %v", err)
	}
}

// corrupt rewrites the stored bytes of one artifact in a directory store.
func corrupt(t *testing.T, dir, digest string) {
	t.Helper()
	p := filepath.Join(dir, "sha256", digest[:2], digest)
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptArtifactStopsMigration: an artifact whose bytes do not match
// its digest is named in the error and never reaches the destination.
func TestCorruptArtifactStopsMigration(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLiteURL(t))
	corrupt(t, f.artsDir, f.digests[0])
	to := newDirStore(t)
	dst := storetest.SQLiteURL(t)
	_, err := Run(ctx, Options{FromDB: f.db, ToDB: dst, From: f.arts, To: to})
	if !errors.Is(err, artifact.ErrCorrupt) || !strings.Contains(err.Error(), f.digests[0]) {
		t.Fatalf("want a corrupt-artifact error naming %s, got %v", f.digests[0], err)
	}
	if ok, _ := to.Has(ctx, f.digests[0]); ok {
		t.Fatal("the corrupt artifact was copied")
	}
	if n, _ := rowsIn(ctx, dst); n != 0 {
		t.Fatalf("%d rows copied although an artifact was corrupt", n)
	}
}

// TestBackupRestore: a backup restores into an empty store with the same
// rows and artifacts; a non-empty store is refused without Force; a
// corrupted artifact in the backup fails the restore and is not written.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLiteURL(t))
	dir := filepath.Join(t.TempDir(), "backup")
	m, err := Backup(ctx, BackupOptions{FromDB: f.db, From: f.arts, Dir: dir, MasterKeyNote: "FLOWGATE_MASTER_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Tables["runtime_logs"] != 50 || len(m.Artifacts) != 2 || m.MasterKey != "FLOWGATE_MASTER_KEY" {
		t.Fatalf("manifest: %+v", m)
	}
	if _, err := Backup(ctx, BackupOptions{FromDB: f.db, From: f.arts, Dir: dir}); err == nil {
		t.Fatal("a backup over a non-empty directory was allowed")
	}

	dst := storetest.SQLiteURL(t)
	to := newDirStore(t)
	if _, err := Restore(ctx, RestoreOptions{Dir: dir, ToDB: dst, To: to}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, f.db, dst)
	for _, d := range f.digests {
		if _, err := to.Get(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Restore(ctx, RestoreOptions{Dir: dir, ToDB: dst, To: to}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore into a non-empty store: %v", err)
	}
	if _, err := Restore(ctx, RestoreOptions{Dir: dir, ToDB: dst, To: to, Force: true}); err != nil {
		t.Fatalf("forced restore: %v", err)
	}

	if _, err := Verify(ctx, dir); err != nil {
		t.Fatalf("verify an intact backup: %v", err)
	}
	corrupt(t, filepath.Join(dir, BackupArtifacts), f.digests[1])
	if _, err := Verify(ctx, dir); !errors.Is(err, artifact.ErrCorrupt) || !strings.Contains(err.Error(), f.digests[1]) {
		t.Fatalf("verify a corrupted backup: %v", err)
	}
	to2 := newDirStore(t)
	_, err = Restore(ctx, RestoreOptions{Dir: dir, ToDB: storetest.SQLiteURL(t), To: to2})
	if !errors.Is(err, artifact.ErrCorrupt) {
		t.Fatalf("restore of a corrupted backup: %v", err)
	}
	if ok, _ := to2.Has(ctx, f.digests[1]); ok {
		t.Fatal("a corrupt artifact was restored")
	}
}

// TestBadInput: a missing source, the same database on both sides, and a
// row naming a malformed digest are refused, each with an error saying so.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "typo.db")
	_, err := Run(ctx, Options{FromDB: missing, ToDB: storetest.SQLiteURL(t), From: newDirStore(t), To: newDirStore(t)})
	if err == nil || !strings.Contains(err.Error(), "source database") {
		t.Fatalf("missing source: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("a missing source file was created")
	}
	f := newFixture(t, storetest.SQLiteURL(t))
	if _, err := Run(ctx, Options{FromDB: f.db, ToDB: "file:" + f.db, From: f.arts, To: newDirStore(t)}); err == nil || !strings.Contains(err.Error(), "the same") {
		t.Fatalf("same database: %v", err)
	}
	db, err := store.Open(ctx, f.db, "")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `UPDATE deployments SET bundle_digest = '../../etc/passwd' WHERE id = 'dep1'`)
	db.Close()
	_, err = Run(ctx, Options{FromDB: f.db, ToDB: storetest.SQLiteURL(t), From: f.arts, To: newDirStore(t)})
	if !errors.Is(err, artifact.ErrInvalidDigest) {
		t.Fatalf("malformed digest: %v", err)
	}
}
