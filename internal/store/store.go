// Package store keeps Flowgate's metadata — environments, sources, syncs,
// workflows, deployments and their live pointers, variables, encryption
// keys, runtime logs and GitHub bookkeeping — in one schema with two
// drivers: SQLite (modernc.org/sqlite, pure Go, the embedded default) and
// PostgreSQL (pgx, for several replicas). Queries are written once with `?`
// placeholders; the few dialect differences (placeholders, booleans, the
// schema's column types, migration locking) are isolated here and in the
// per-dialect migration files.
//
// The store does no policy: which deployment may go live, and when, is
// internal/deploy's job. It offers the reads and writes deploy composes into
// transactions (DB.InTx), and the database handles River needs.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names the database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DefaultFile is the SQLite file created under the data directory when no
// database URL is configured.
const DefaultFile = "flowgate.db"

// ErrNotFound is returned by single-row reads when the row does not exist.
var ErrNotFound = errors.New("not found")

// DB is an open store. Reads and writes outside a transaction go through
// its embedded Q; DB.InTx runs several of them atomically.
type DB struct {
	Q
	sqlDB   *sql.DB
	pool    *pgxpool.Pool // PostgreSQL only
	dialect Dialect
	where   string // for messages: the file or the host/database, never a password
}

// Open opens (and migrates) the database named by spec:
//
//	""                         SQLite at <dataDir>/flowgate.db (the directory is created)
//	"postgres://…", "postgresql://…"  PostgreSQL
//	anything else              a SQLite file path ("sqlite://" / "file:" prefixes allowed)
func Open(ctx context.Context, spec, dataDir string) (*DB, error) {
	var db *DB
	var err error
	switch {
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		db, err = openPostgres(ctx, spec)
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite://"), "file:")
		if path == "" {
			if dataDir == "" {
				dataDir = "."
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("store: create data dir: %w", err)
			}
			path = filepath.Join(dataDir, DefaultFile)
		}
		db, err = openSQLite(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.dialect == SQLite {
		db.prep = prepare(ctx, db.sqlDB)
	}
	return db, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	// WAL lets readers run beside the writer; busy_timeout waits for the
	// write lock instead of failing; _txlock=immediate takes the write lock
	// at BEGIN so a transaction never fails half-way upgrading its lock.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	// The path goes into a file: URI, where '#' would start a fragment and
	// '?' the query (a test directory named "FuzzX#seed…" once put every
	// fuzz run in one shared file): escape them, and '%' itself.
	uriPath := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	sqlDB, err := sql.Open("sqlite", "file:"+uriPath+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// SQLite has one writer; one connection serialises store and River
	// work instead of trading SQLITE_BUSY errors (River's advice too).
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetConnMaxIdleTime(0)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return &DB{Q: Q{ex: sqlDB, dialect: SQLite}, sqlDB: sqlDB, dialect: SQLite, where: path}, nil
}

func openPostgres(ctx context.Context, spec string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(spec)
	if err != nil {
		// pgx errors may quote the URL; say only what kind of thing failed.
		return nil, errors.New("store: invalid PostgreSQL URL in FLOWGATE_DATABASE_URL")
	}
	where := cfg.ConnConfig.Host + ":" + strconv.Itoa(int(cfg.ConnConfig.Port)) + "/" + cfg.ConnConfig.Database
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to PostgreSQL %s: %w", where, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL %s: %w", where, err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	return &DB{Q: Q{ex: sqlDB, dialect: Postgres}, sqlDB: sqlDB, pool: pool, dialect: Postgres, where: where}, nil
}

// Close releases the database.
func (db *DB) Close() error {
	err := db.sqlDB.Close()
	if db.pool != nil {
		db.pool.Close()
	}
	return err
}

// Dialect says which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL is the database/sql handle (River's SQLite driver runs on it).
func (db *DB) SQL() *sql.DB { return db.sqlDB }

// Pool is the pgx pool for PostgreSQL (River's pgx driver runs on it); nil
// for SQLite.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// String names the database for logs (file path or host:port/db, no secrets).
func (db *DB) String() string { return string(db.dialect) + " " + db.where }

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise. fn must use only the Q it is given (on SQLite the store
// has one connection, so touching db inside fn would wait forever).
func (db *DB) InTx(ctx context.Context, fn func(q Q) error) error {
	tx, err := db.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(Q{ex: tx, dialect: db.dialect, prep: db.prep}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// execer is what *sql.DB and *sql.Tx share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Q runs the store's queries on the database or inside a transaction.
type Q struct {
	ex      execer
	dialect Dialect
	prep    prepared // SQLite: statements for fixed texts (prepared.go)
}

func (q Q) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.ex.ExecContext(ctx, q.rebind(query), args...)
}

func (q Q) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.ex.QueryContext(ctx, q.rebind(query), args...)
}

func (q Q) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return q.ex.QueryRowContext(ctx, q.rebind(query), args...)
}

// rebind turns `?` placeholders into PostgreSQL's `$n`. The store's queries
// never contain a literal question mark.
func (q Q) rebind(query string) string {
	if q.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// micros is the store's time encoding: Unix microseconds, UTC.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
