package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A SQLite path with URI characters in it ('#', '?', '%') is the file it
// names, not a truncated, shared one.
func TestSQLitePathWithURICharacters(t *testing.T) {
	for _, name := range []string{"seed#1", "a?b", "100%", "x%23y"} {
		dir := filepath.Join(t.TempDir(), name)
		db, err := Open(context.Background(), "", dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		db.Close()
		if _, err := os.Stat(filepath.Join(dir, DefaultFile)); err != nil {
			t.Errorf("%s: the database is not where its path says: %v", name, err)
		}
	}
}
