package release

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Checksums returns checksums.txt for the named files in dir, in the
// format `sha256sum -c` reads: "<hex>  <name>", one line per file, sorted.
func Checksums(dir string, names []string) ([]byte, error) {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	var b strings.Builder
	for i, name := range sorted {
		if i > 0 && sorted[i-1] == name {
			return nil, fmt.Errorf("checksums: %s is listed twice", name)
		}
		if name != filepath.Base(name) || strings.ContainsAny(name, " \n\\") {
			return nil, fmt.Errorf("checksums: %q must be a plain file name", name)
		}
		sum, err := FileSHA256(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("checksums: %w", err)
		}
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum), name)
	}
	return []byte(b.String()), nil
}

// FileSHA256 returns the SHA-256 of a file's contents.
func FileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h.Sum(nil), nil
}
