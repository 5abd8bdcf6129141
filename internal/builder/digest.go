package builder

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Limits of Digest: past them only names and sizes count.
const (
	digestMaxBytes   = 64 << 20
	digestMaxEntries = 200_000
)

// Digest identifies a repository's content for quarantine: SHA-256 over
// every regular file's path, size and bytes, in walk order (sorted),
// without node_modules and .git. Nothing but regular files is opened.
func Digest(dir string) string {
	h := sha256.New()
	var budget int64 = digestMaxBytes
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > digestMaxEntries {
			return filepath.SkipAll
		}
		if d.IsDir() {
			if p != dir && (d.Name() == "node_modules" || d.Name() == ".git") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		io.WriteString(h, rel)
		var size [8]byte
		binary.BigEndian.PutUint64(size[:], uint64(info.Size()))
		h.Write(size[:])
		if info.Size() <= budget {
			if f, err := os.Open(p); err == nil {
				k, _ := io.Copy(h, io.LimitReader(f, info.Size()))
				budget -= k
				f.Close()
			}
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}
