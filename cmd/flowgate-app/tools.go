package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/migrate"
)

// tools are the offline subcommands: moving a store, backing it up and
// restoring it (docs/operations.md walks through each).
var tools = map[string]func(args []string, stdout, stderr io.Writer) int{
	"migrate": runMigrate,
	"backup":  runBackup,
	"restore": runRestore,
}

// storeFlags are the flags naming one side's database and artifact store,
// defaulting to the service's own configuration (FLOWGATE_* variables).
type storeFlags struct {
	dataDir, db, arts *string
}

// addStoreFlags defaults the flags to cfg's settings; a nil cfg gives no defaults.
func addStoreFlags(fs *flag.FlagSet, prefix, what string, cfg *app.Config) storeFlags {
	var db, arts string
	s := storeFlags{}
	if cfg != nil {
		dd := cfg.DataDir
		if dd == "" {
			dd = "flowgate-data"
		}
		s.dataDir = fs.String("data-dir", dd, "data directory whose flowgate.db and artifacts/ are the defaults (FLOWGATE_DATA_DIR)")
		db, arts = cfg.DatabaseURL, cfg.Artifacts
	}
	s.db = fs.String(prefix+"db", db, what+" database: postgres://… or a SQLite file path")
	s.arts = fs.String(prefix+"artifacts", arts, what+" artifact store: a directory or s3://bucket/prefix")
	return s
}

// envConfig is the service's configuration from the FLOWGATE_* variables;
// ok is false (and the error written) when they do not parse.
func envConfig(tool string, stderr io.Writer) (app.Config, bool) {
	cfg, err := app.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "flowgate %s: %v\n", tool, err)
		return cfg, false
	}
	return cfg, true
}

func (s storeFlags) resolve() (db, arts string) {
	db, arts = *s.db, *s.arts
	if s.dataDir != nil {
		if db == "" {
			db = filepath.Join(*s.dataDir, "flowgate.db")
		}
		if arts == "" {
			arts = filepath.Join(*s.dataDir, "artifacts")
		}
	}
	return db, arts
}

func toolContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (ok bool, code int) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0
		}
		return false, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flowgate: unexpected argument %q\n", fs.Arg(0))
		return false, 2
	}
	return true, 0
}

func openArtifacts(ctx context.Context, spec, endpoint string) (artifact.Store, error) {
	return artifact.Open(ctx, spec, artifact.Options{S3Endpoint: endpoint})
}

func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flowgate-app migrate", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: flowgate-app migrate --from-db DB --from-artifacts ARTS --to-db DB --to-artifacts ARTS [--dry-run]

Copies every table (in foreign-key order, by column name) and every artifact
the rows name from one store to another: SQLite + a directory to PostgreSQL +
S3, and back. Safe to repeat: a run resumes an interrupted one, and a run over
a migrated store changes nothing. Every table is verified by row count and a
digest of its rows, every artifact by its SHA-256. Sealed secrets are copied
as they are: start the new service with the same master key. The old service
may keep serving while this runs; run it once more after stopping the old one.
River's job queue is not carried: the old process drains it.

`)
		fs.PrintDefaults()
	}
	cfg, ok := envConfig("migrate", stderr)
	if !ok {
		return 2
	}
	from := addStoreFlags(fs, "from-", "source", nil)
	to := addStoreFlags(fs, "to-", "destination", nil)
	endpoint := fs.String("s3-endpoint", cfg.S3Endpoint, "S3-compatible endpoint for s3:// stores (FLOWGATE_S3_ENDPOINT); credentials from the AWS chain")
	dry := fs.Bool("dry-run", false, "print what would move; write nothing")
	if ok, code := parse(fs, args, stderr); !ok {
		return code
	}
	fromDB, fromArts := from.resolve()
	toDB, toArts := to.resolve()
	if fromDB == "" || fromArts == "" || toDB == "" || toArts == "" {
		fmt.Fprintln(stderr, "flowgate migrate: --from-db, --from-artifacts, --to-db and --to-artifacts are all required")
		return 2
	}
	ctx, stop := toolContext()
	defer stop()
	src, err := openArtifacts(ctx, fromArts, *endpoint)
	if err != nil {
		fmt.Fprintln(stderr, "flowgate migrate: source artifacts:", err)
		return 1
	}
	dst, err := openArtifacts(ctx, toArts, *endpoint)
	if err != nil {
		fmt.Fprintln(stderr, "flowgate migrate: destination artifacts:", err)
		return 1
	}
	rep, err := migrate.Run(ctx, migrate.Options{FromDB: fromDB, ToDB: toDB, From: src, To: dst, DryRun: *dry, Log: stderr})
	rep.Print(stdout)
	if err != nil {
		fmt.Fprintln(stderr, "flowgate", err)
		return 1
	}
	return 0
}

func runBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flowgate-app backup", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: flowgate-app backup --to DIR [--data-dir DIR | --db DB --artifacts ARTS]

Writes a consistent backup into DIR (new or empty): flowgate.db (every row,
from one snapshot, while the service keeps running), artifacts/ (every
artifact a deployment names) and manifest.json (row counts and digests).
The master key is never copied: keep it apart, restore with the same one.

`)
		fs.PrintDefaults()
	}
	cfg, ok := envConfig("backup", stderr)
	if !ok {
		return 2
	}
	from := addStoreFlags(fs, "", "source", &cfg)
	dir := fs.String("to", "", "backup directory (created; must be empty)")
	endpoint := fs.String("s3-endpoint", cfg.S3Endpoint, "S3-compatible endpoint (FLOWGATE_S3_ENDPOINT)")
	if ok, code := parse(fs, args, stderr); !ok {
		return code
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "flowgate backup: --to DIR is required")
		return 2
	}
	if strings.Contains(*dir, "://") {
		fmt.Fprintln(stderr, "flowgate backup: --to must be a local directory (copy it to object storage afterwards, e.g. aws s3 sync)")
		return 2
	}
	db, arts := from.resolve()
	ctx, stop := toolContext()
	defer stop()
	src, err := openArtifacts(ctx, arts, *endpoint)
	if err != nil {
		fmt.Fprintln(stderr, "flowgate backup:", err)
		return 1
	}
	note := "FLOWGATE_MASTER_KEY"
	if cfg.MasterKey == "" {
		note = "the master.key file of the data directory " + *from.dataDir
	}
	m, err := migrate.Backup(ctx, migrate.BackupOptions{FromDB: db, From: src, Dir: *dir, MasterKeyNote: note})
	if err != nil {
		fmt.Fprintln(stderr, "flowgate", err)
		return 1
	}
	var rows int64
	for _, n := range m.Tables {
		rows += n
	}
	fmt.Fprintf(stdout, "backup in %s: %d tables, %d rows, %d artifacts (schema version %d)\nthe master key is not in it: keep %s\n",
		*dir, len(m.Tables), rows, len(m.Artifacts), m.SchemaVersion, note)
	return 0
}

func runRestore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flowgate-app restore", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: flowgate-app restore --from DIR [--data-dir DIR | --db DB --artifacts ARTS] [--force | --verify-only]

Restores a backup made by "flowgate-app backup" into an empty store (refusing
one that holds rows unless --force). Every artifact is verified by its SHA-256:
a corrupted backup fails the restore and nothing corrupt is written.

`)
		fs.PrintDefaults()
	}
	cfg, ok := envConfig("restore", stderr)
	if !ok {
		return 2
	}
	to := addStoreFlags(fs, "", "destination", &cfg)
	dir := fs.String("from", "", "backup directory")
	check := fs.Bool("verify-only", false, "check the backup (row counts, every artifact's SHA-256) and restore nothing")
	force := fs.Bool("force", false, "restore into a store that already holds rows (rows with the same keys are overwritten)")
	endpoint := fs.String("s3-endpoint", cfg.S3Endpoint, "S3-compatible endpoint (FLOWGATE_S3_ENDPOINT)")
	if ok, code := parse(fs, args, stderr); !ok {
		return code
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "flowgate restore: --from DIR is required")
		return 2
	}
	db, arts := to.resolve()
	ctx, stop := toolContext()
	defer stop()
	if *check {
		m, err := migrate.Verify(ctx, *dir)
		if err != nil {
			fmt.Fprintln(stderr, "flowgate", err)
			return 1
		}
		fmt.Fprintf(stdout, "backup %s is intact: %d tables, %d artifacts verified (schema version %d, taken %s)\n",
			*dir, len(m.Tables), len(m.Artifacts), m.SchemaVersion, m.CreatedAt.Format("2006-01-02 15:04:05Z"))
		return 0
	}
	if err := os.MkdirAll(*to.dataDir, 0o700); err != nil {
		fmt.Fprintln(stderr, "flowgate restore:", err)
		return 1
	}
	dst, err := openArtifacts(ctx, arts, *endpoint)
	if err != nil {
		fmt.Fprintln(stderr, "flowgate restore:", err)
		return 1
	}
	rep, err := migrate.Restore(ctx, migrate.RestoreOptions{Dir: *dir, ToDB: db, To: dst, Force: *force})
	if err != nil {
		fmt.Fprintln(stderr, "flowgate", err)
		return 1
	}
	rep.Print(stdout)
	fmt.Fprintln(stdout, "start the service with the master key named in the backup's manifest.json, and the production FLOWGATE_RUNTIME_TOKEN")
	return 0
}
