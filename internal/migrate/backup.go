package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/store"
)

// A backup is a directory: a SQLite file holding every carried row, read
// from one snapshot of the source; an artifact directory with every
// artifact a row names; and a manifest with the counts and digests.
const (
	BackupDB        = "flowgate.db"
	BackupArtifacts = "artifacts"
	ManifestFile    = "manifest.json"
)

// Manifest describes a backup.
type Manifest struct {
	Version       int              `json:"version"`
	CreatedAt     time.Time        `json:"createdAt"`
	SchemaVersion int              `json:"schemaVersion"`
	Tables        map[string]int64 `json:"tables"`    // rows per table
	Artifacts     []string         `json:"artifacts"` // SHA-256 of every artifact held
	// MasterKey names the key the sealed values need. The key itself is
	// never in a backup: keep it apart (a secrets manager), and restore
	// with the same FLOWGATE_MASTER_KEY or master.key file.
	MasterKey string `json:"masterKey"`
}

// BackupOptions says what to back up.
type BackupOptions struct {
	FromDB string
	From   artifact.Store
	Dir    string // created; must be absent or empty
	// MasterKeyNote names where the master key lives (never its value).
	MasterKeyNote string
}

// Backup writes a consistent backup of the store into a new directory.
func Backup(ctx context.Context, o BackupOptions) (Manifest, error) {
	var m Manifest
	if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
		return m, fmt.Errorf("backup: %s is not empty", o.Dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	to, err := artifact.OpenDir(filepath.Join(o.Dir, BackupArtifacts), artifact.Options{})
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	rep, err := Run(ctx, Options{FromDB: o.FromDB, ToDB: filepath.Join(o.Dir, BackupDB), From: o.From, To: to})
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	m = Manifest{Version: 1, CreatedAt: time.Now().UTC(), SchemaVersion: rep.SchemaVersion,
		Tables: map[string]int64{}, MasterKey: o.MasterKeyNote}
	for _, t := range rep.Tables {
		m.Tables[t.Name] = t.SourceRows
	}
	db, err := store.Open(ctx, filepath.Join(o.Dir, BackupDB), "")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	tables, err := plan(ctx, db.SQL(), db.Dialect(), db.SQL(), db.Dialect(), map[string]string{})
	if err == nil {
		m.Artifacts, err = namedDigests(ctx, db.SQL(), tables)
	}
	db.Close()
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	j, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Dir, ManifestFile), append(j, '\n'), 0o600); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// RestoreOptions says where to restore a backup.
type RestoreOptions struct {
	Dir   string
	ToDB  string
	To    artifact.Store
	Force bool // restore into a store that already holds rows
}

// Restore copies a backup into a store, refusing one that already holds
// rows unless Force. Every artifact is checked against its digest on the
// way: a corrupted one fails the restore (naming it) and is never written.
func Restore(ctx context.Context, o RestoreOptions) (Report, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(o.Dir, ManifestFile))
	if err != nil {
		return Report{}, fmt.Errorf("restore: %s is not a Flowgate backup: %w", o.Dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return Report{}, fmt.Errorf("restore: %s: %w", ManifestFile, err)
	}
	if !o.Force {
		n, err := rowsIn(ctx, o.ToDB)
		if err != nil {
			return Report{}, fmt.Errorf("restore: %w", err)
		}
		if n > 0 {
			return Report{}, fmt.Errorf("restore: the destination already holds %d rows: restore into an empty store, or pass --force to overwrite matching rows", n)
		}
	}
	from, err := artifact.OpenDir(filepath.Join(o.Dir, BackupArtifacts), artifact.Options{})
	if err != nil {
		return Report{}, fmt.Errorf("restore: %w", err)
	}
	rep, err := Run(ctx, Options{FromDB: filepath.Join(o.Dir, BackupDB), ToDB: o.ToDB, From: from, To: o.To})
	if err != nil {
		return rep, fmt.Errorf("restore: %w", err)
	}
	for _, t := range rep.Tables {
		if want, ok := m.Tables[t.Name]; ok && want != t.SourceRows {
			return rep, fmt.Errorf("restore: table %s has %d rows, the manifest says %d", t.Name, t.SourceRows, want)
		}
	}
	if len(m.Artifacts) != rep.Artifacts {
		return rep, fmt.Errorf("restore: %d artifacts restored, the manifest lists %d", rep.Artifacts, len(m.Artifacts))
	}
	return rep, nil
}

// rowsIn counts the rows of every carried table of a store (opening it
// creates the schema of an empty one).
func rowsIn(ctx context.Context, spec string) (int64, error) {
	db, err := store.Open(ctx, spec, "")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	tables, err := plan(ctx, db.SQL(), db.Dialect(), db.SQL(), db.Dialect(), map[string]string{})
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tables {
		var n int64
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(t.name)).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Verify checks a backup without restoring it: every table's row count
// against the manifest, and every artifact the manifest lists against its
// SHA-256. It returns the manifest and an error naming what is wrong.
func Verify(ctx context.Context, dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("verify: %s is not a Flowgate backup: %w", dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("verify: %s: %w", ManifestFile, err)
	}
	dbPath := filepath.Join(dir, BackupDB)
	if _, err := os.Stat(dbPath); err != nil {
		return m, fmt.Errorf("verify: %w", err)
	}
	db, err := store.Open(ctx, dbPath, "")
	if err != nil {
		return m, fmt.Errorf("verify: %w", err)
	}
	defer db.Close()
	for name, want := range m.Tables {
		var n int64
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(name)).Scan(&n); err != nil {
			return m, fmt.Errorf("verify: table %s: %w", name, err)
		}
		if n != want {
			return m, fmt.Errorf("verify: table %s has %d rows, the manifest says %d", name, n, want)
		}
	}
	arts, err := artifact.OpenDir(filepath.Join(dir, BackupArtifacts), artifact.Options{})
	if err != nil {
		return m, fmt.Errorf("verify: %w", err)
	}
	var bad []error
	for _, d := range m.Artifacts {
		if _, err := arts.Get(ctx, d); err != nil {
			bad = append(bad, err)
		}
	}
	if len(bad) > 0 {
		return m, fmt.Errorf("verify: %d of %d artifacts are damaged: %w", len(bad), len(m.Artifacts), errors.Join(bad...))
	}
	return m, nil
}
