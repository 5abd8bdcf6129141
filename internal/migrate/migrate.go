// Package migrate moves a Flowgate store — its metadata database and its
// artifact store — to another one: SQLite and a directory to PostgreSQL and
// S3 and back, and into and out of backups.
//
// The copy is driven by the schema, not by a list of tables: every table of
// the source schema is carried (except the few named in excludedPrefixes),
// columns are copied by name, tables in foreign-key order. Rows are
// upserted by primary key, so a run can be repeated or resumed after a
// failure, and a run over an already migrated store changes nothing. Every
// table is verified after the copy by its row count and an order-free
// digest of all its rows, and every artifact a row names (any column ending
// in _digest) is read back from the destination and checked against its
// SHA-256. Sealed values (secret variables, workflow keys) are copied as the
// bytes they are: nothing is ever decrypted, and the master key is not
// needed or read.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/store"
)

// Options says what to move where.
type Options struct {
	FromDB, ToDB string         // store specs: postgres://… or a SQLite file path
	From, To     artifact.Store // the artifact stores
	DryRun       bool           // plan only: read both sides, write nothing (the destination schema is created)
	Log          io.Writer      // progress lines; nil for none
}

// TableReport is what happened to one table.
type TableReport struct {
	Name        string
	SourceRows  int64
	DestBefore  int64 // rows in the destination before this run
	Written     int64 // rows inserted or updated
	Deleted     int64 // destination rows absent from the source
	AlreadySame bool  // the destination already held exactly the source's rows
}

// Report is the outcome of a run.
type Report struct {
	Tables           []TableReport
	Excluded         map[string]string // table → why it is not carried
	Artifacts        int               // distinct artifacts the rows name
	ArtifactsCopied  int
	PendingJobs      int64 // River jobs not finished in the source (drained, not carried)
	SchemaVersion    int
	DryRun           bool
	ArtifactsMissing []string // dry run: named by rows but absent from the source
}

// Changed is the number of rows and artifacts a run wrote.
func (r Report) Changed() int64 {
	n := int64(r.ArtifactsCopied)
	for _, t := range r.Tables {
		n += t.Written + t.Deleted
	}
	return n
}

// Print writes the report for people.
func (r Report) Print(w io.Writer) {
	verb := "moved"
	if r.DryRun {
		verb = "would move"
	}
	fmt.Fprintf(w, "schema version %d\n", r.SchemaVersion)
	for _, t := range r.Tables {
		switch {
		case t.AlreadySame:
			fmt.Fprintf(w, "  %-22s %9d rows  already identical\n", t.Name, t.SourceRows)
		case r.DryRun:
			fmt.Fprintf(w, "  %-22s %9d rows  (destination has %d): would copy\n", t.Name, t.SourceRows, t.DestBefore)
		default:
			fmt.Fprintf(w, "  %-22s %9d rows  %d written, %d deleted, verified\n", t.Name, t.SourceRows, t.Written, t.Deleted)
		}
	}
	byReason := map[string][]string{}
	var reasons []string
	for n, why := range r.Excluded {
		if byReason[why] == nil {
			reasons = append(reasons, why)
		}
		byReason[why] = append(byReason[why], n)
	}
	sort.Strings(reasons)
	for _, why := range reasons {
		names := byReason[why]
		sort.Strings(names)
		fmt.Fprintf(w, "  not carried: %s (%s)\n", strings.Join(names, ", "), why)
	}
	fmt.Fprintf(w, "artifacts: %d named by rows, %d %s, all verified by SHA-256\n", r.Artifacts, r.ArtifactsCopied, verb)
	if len(r.ArtifactsMissing) > 0 {
		fmt.Fprintf(w, "error: %d artifacts named by rows are missing from the source (the migration would stop): %s\n",
			len(r.ArtifactsMissing), strings.Join(r.ArtifactsMissing, ", "))
	}
	if r.PendingJobs > 0 {
		fmt.Fprintf(w, "note: %d River jobs are not finished in the source; they are not carried (let the old process drain them)\n", r.PendingJobs)
	}
	fmt.Fprintf(w, "%d changes\n", r.Changed())
}

// Run moves the store. See the package comment for what it guarantees.
func Run(ctx context.Context, o Options) (Report, error) {
	rep := Report{Excluded: map[string]string{}, DryRun: o.DryRun}
	if o.FromDB == "" || o.ToDB == "" || o.From == nil || o.To == nil {
		return rep, errors.New("migrate: a source and a destination database and artifact store are all required")
	}
	if sameSpec(o.FromDB, o.ToDB) {
		return rep, errors.New("migrate: the source and destination databases are the same")
	}
	dst, err := store.Open(ctx, o.ToDB, "")
	if err != nil {
		return rep, fmt.Errorf("migrate: destination: %w", err)
	}
	defer dst.Close()
	src, err := openSource(ctx, o.FromDB)
	if err != nil {
		return rep, err
	}
	defer src.Close()

	// One read transaction: every table is read from the same snapshot,
	// while the old process keeps writing.
	snap, err := src.snapshot(ctx)
	if err != nil {
		return rep, fmt.Errorf("migrate: source snapshot: %w", err)
	}
	defer snap.Rollback()

	sv, err := schemaVersion(ctx, snap)
	if err != nil {
		return rep, fmt.Errorf("migrate: source schema version: %w", err)
	}
	dv, err := dst.SchemaVersion(ctx)
	if err != nil {
		return rep, fmt.Errorf("migrate: destination schema version: %w", err)
	}
	if sv != dv {
		return rep, fmt.Errorf("migrate: source schema is version %d, destination %d: run the same Flowgate version on both", sv, dv)
	}
	rep.SchemaVersion = sv

	tables, err := plan(ctx, snap, src.dialect, dst.SQL(), dst.Dialect(), rep.Excluded)
	if err != nil {
		return rep, err
	}
	rep.PendingJobs = pendingJobs(ctx, snap)

	// Artifacts first: a row that names an artifact never lands before it.
	digests, err := namedDigests(ctx, snap, tables)
	if err != nil {
		return rep, err
	}
	rep.Artifacts = len(digests)
	logf(o.Log, "artifacts: %d named by rows", len(digests))
	for _, d := range digests {
		copied, err := moveArtifact(ctx, o.From, o.To, d, o.DryRun)
		if err != nil {
			if o.DryRun && errors.Is(err, artifact.ErrNotFound) {
				rep.ArtifactsMissing = append(rep.ArtifactsMissing, d)
				continue
			}
			return rep, fmt.Errorf("migrate: artifact %s: %w", d, err)
		}
		if copied {
			rep.ArtifactsCopied++
		}
	}

	c := copier{src: snap, srcDialect: src.dialect, dst: dst.SQL(), w: dst.SQL(), dstDialect: dst.Dialect(), dry: o.DryRun, log: o.Log}
	if dst.Dialect() == store.Postgres && !o.DryRun {
		// Each batch commits on its own; waiting for its WAL flush made
		// PostgreSQL the bottleneck. Losing the last batches in a crash is
		// harmless: the final verification, or the next run, finds them.
		conn, err := dst.SQL().Conn(ctx)
		if err != nil {
			return rep, fmt.Errorf("migrate: destination: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SET synchronous_commit = off`); err != nil {
			return rep, fmt.Errorf("migrate: destination: %w", err)
		}
		c.w = conn
		c.pool = dst.Pool()
	}
	for _, t := range tables {
		tr, err := c.table(ctx, t)
		rep.Tables = append(rep.Tables, tr)
		if err != nil {
			return rep, fmt.Errorf("migrate: table %s: %w", t.name, err)
		}
	}
	return rep, nil
}

// plan lists the carried tables of the source, in foreign-key order, and
// checks that the destination has each of them with every source column.
func plan(ctx context.Context, src querier, sd store.Dialect, dst querier, dd store.Dialect, excluded map[string]string) ([]table, error) {
	names, err := listTables(ctx, src, sd)
	if err != nil {
		return nil, fmt.Errorf("migrate: source: %w", err)
	}
	dstNames, err := listTables(ctx, dst, dd)
	if err != nil {
		return nil, fmt.Errorf("migrate: destination: %w", err)
	}
	have := map[string]bool{}
	for _, n := range dstNames {
		have[n] = true
	}
	var ts []table
	for _, n := range names {
		if why := ExcludedReason(n); why != "" {
			excluded[n] = why
			continue
		}
		if !have[n] {
			return nil, fmt.Errorf("migrate: table %s is in the source but not in the destination schema", n)
		}
		st, err := describe(ctx, src, sd, n)
		if err != nil {
			return nil, fmt.Errorf("migrate: describe source table %s: %w", n, err)
		}
		dt, err := describe(ctx, dst, dd, n)
		if err != nil {
			return nil, fmt.Errorf("migrate: describe destination table %s: %w", n, err)
		}
		// Copy the source's columns, typed as the destination declares them.
		t := table{name: n, pk: dt.pk, refs: st.refs}
		for _, c := range st.cols {
			dc, ok := dt.col(c.name)
			if !ok {
				return nil, fmt.Errorf("migrate: column %s.%s is in the source but not in the destination", n, c.name)
			}
			t.cols = append(t.cols, dc)
		}
		ts = append(ts, t)
	}
	return foreignKeyOrder(ts)
}

// source is the database read from: a snapshot-capable handle.
type source struct {
	db      *sql.DB
	store   *store.DB // PostgreSQL: the store's pool
	dialect store.Dialect
}

// openSource opens the source through the store (which checks, and brings
// up to date, its schema), then for SQLite a second, read-only handle whose
// transactions do not take the write lock the running service needs.
func openSource(ctx context.Context, spec string) (*source, error) {
	if !isPostgres(spec) {
		// Opening a missing SQLite file would create an empty store and
		// "migrate" nothing: a typo must be an error.
		if _, err := os.Stat(sqlitePath(spec)); err != nil {
			return nil, fmt.Errorf("migrate: source database: %w", err)
		}
	}
	s, err := store.Open(ctx, spec, "")
	if err != nil {
		return nil, fmt.Errorf("migrate: source: %w", err)
	}
	if s.Dialect() == store.Postgres {
		return &source{db: s.SQL(), store: s, dialect: store.Postgres}, nil
	}
	s.Close()
	path := sqlitePath(spec)
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("migrate: open source %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return &source{db: db, dialect: store.SQLite}, nil
}

func (s *source) snapshot(ctx context.Context) (*sql.Tx, error) {
	if s.dialect == store.Postgres {
		return s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return s.db.BeginTx(ctx, nil) // deferred: a WAL read snapshot from the first read on
}

func (s *source) Close() {
	if s.store != nil {
		s.store.Close()
		return
	}
	s.db.Close()
}

func sqlitePath(spec string) string {
	return strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite://"), "file:")
}

func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

func sameSpec(a, b string) bool {
	if isPostgres(a) || isPostgres(b) {
		return a == b
	}
	return sqlitePath(a) == sqlitePath(b)
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// pendingJobs counts River jobs that have not finished (0 when River has
// not created its tables).
func pendingJobs(ctx context.Context, q querier) int64 {
	var n int64
	// A savepoint would be needed to survive an error inside a PostgreSQL
	// transaction; checking that the table exists first avoids the error.
	var exists int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM information_schema.tables WHERE table_name = 'river_job') x`).Scan(&exists); err != nil {
		// SQLite has no information_schema.
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'river_job'`).Scan(&exists); err != nil {
			return 0
		}
	}
	if exists == 0 {
		return 0
	}
	_ = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n)
	return n
}

// namedDigests collects the distinct non-empty values of every column named
// *_digest in the carried tables: the artifacts the rows point at.
func namedDigests(ctx context.Context, q querier, tables []table) ([]string, error) {
	seen := map[string]bool{}
	for _, t := range tables {
		for _, c := range t.cols {
			if !strings.HasSuffix(c.name, "_digest") {
				continue
			}
			vals, err := strings1(ctx, q, `SELECT DISTINCT `+quote(c.name)+` FROM `+quote(t.name)+` WHERE `+quote(c.name)+` <> ''`)
			if err != nil {
				return nil, fmt.Errorf("migrate: read %s.%s: %w", t.name, c.name, err)
			}
			for _, v := range vals {
				seen[v] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}

// moveArtifact makes the destination hold a verified copy of one artifact.
// Get verifies the bytes against the digest on both sides.
func moveArtifact(ctx context.Context, from, to artifact.Store, digest string, dry bool) (copied bool, err error) {
	if !artifact.ValidDigest(digest) {
		return false, artifact.ErrInvalidDigest
	}
	if ok, err := to.Has(ctx, digest); err != nil {
		return false, err
	} else if ok {
		if _, err := to.Get(ctx, digest); err != nil {
			return false, fmt.Errorf("destination copy: %w", err)
		}
		return false, nil
	}
	if dry {
		ok, err := from.Has(ctx, digest)
		if err == nil && !ok {
			err = artifact.ErrNotFound
		}
		return err == nil, err
	}
	data, err := from.Get(ctx, digest)
	if err != nil {
		return false, fmt.Errorf("source: %w", err)
	}
	got, err := to.Put(ctx, data)
	if err != nil {
		return false, fmt.Errorf("destination: %w", err)
	}
	if got != digest {
		return false, fmt.Errorf("destination stored it as %s", got)
	}
	if _, err := to.Get(ctx, digest); err != nil {
		return false, fmt.Errorf("destination copy: %w", err)
	}
	return true, nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
