package npm

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLockfileErrorsAreLocated: a package.json or package-lock.json that
// cannot be read is reported at the character or value at fault.
func TestLockfileErrorsAreLocated(t *testing.T) {
	tests := []struct {
		name, file, data string
		line, col        int
	}{
		{"syntax", "package.json", "{\n  \"dependencies\": {\"a\": \"1\",}\n}", 2, 29},
		{"wrong type", "package.json", "{\n  \"name\": \"x\",\n  \"dependencies\": [\"a\"]\n}", 3, 19},
		{"cut short", "package-lock.json", "{\"packages\": {", 1, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, ds := readLock(dir)
			if len(ds) != 1 || ds[0].File != tt.file || ds[0].Line != tt.line || ds[0].Column != tt.col || ds[0].Rule != RuleBuildError {
				t.Fatalf("diagnostics %+v, want one at %s:%d:%d", ds, tt.file, tt.line, tt.col)
			}
		})
	}
}
