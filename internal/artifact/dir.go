package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a Store in a local directory: <root>/sha256/<first two hex>/<digest>.
// Files are written to a temporary file in the destination directory,
// synced, then hard-linked into place (link fails if the name exists, so an
// existing blob is never replaced by a concurrent writer); the temporary
// name is removed afterwards.
type Dir struct {
	root     string
	maxBytes int64
}

var _ Store = (*Dir)(nil)

const (
	dirPerm  = 0o750
	filePerm = 0o640
)

// OpenDir opens (creating if needed) a directory store at root.
func OpenDir(root string, opts Options) (*Dir, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("artifact directory %q: %w", root, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, "sha256"), dirPerm); err != nil {
		return nil, fmt.Errorf("artifact directory %q: %w", root, err)
	}
	return &Dir{root: abs, maxBytes: opts.maxBytes()}, nil
}

// path is built from a validated digest only.
func (d *Dir) path(digest string) string {
	return filepath.Join(d.root, "sha256", digest[:2], digest)
}

// Put implements Store. If a blob with this digest exists but is corrupt,
// it is replaced by the correct bytes (the only content the name may hold).
func (d *Dir) Put(ctx context.Context, data []byte) (string, error) {
	if int64(len(data)) > d.maxBytes {
		return "", fmt.Errorf("artifact put: %w", tooLarge(int64(len(data)), d.maxBytes))
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("artifact put: %w", err)
	}
	digest := Digest(data)
	final := d.path(digest)
	switch existing, err := d.read(digest); {
	case err == nil && Digest(existing) == digest:
		return digest, nil
	case err == nil, errors.Is(err, ErrTooLarge):
		// Corrupt (or grown) file under our name: repair below.
	case !errors.Is(err, ErrNotFound):
		return "", fmt.Errorf("artifact put %s: %w", digest, err)
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return "", fmt.Errorf("artifact put %s: %w", digest, err)
	}
	tmp, err := writeTemp(dir, digest, data)
	if err != nil {
		return "", fmt.Errorf("artifact put %s: %w", digest, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, final); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("artifact put %s: %w", digest, err)
		}
		// Someone else stored it first (or a corrupt file is in the way):
		// keep theirs if it is right, otherwise replace it atomically.
		if existing, rerr := d.read(digest); rerr == nil && Digest(existing) == digest {
			return digest, nil
		}
		if err := os.Rename(tmp, final); err != nil {
			return "", fmt.Errorf("artifact put %s: replace corrupt blob: %w", digest, err)
		}
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("artifact put %s: %w", digest, err)
	}
	return digest, nil
}

// writeTemp writes data to a new temporary file in dir and syncs it.
func writeTemp(dir, digest string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-"+digest[:8]+"-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(filePerm)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(name)
		return "", werr
	}
	return name, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Get implements Store.
func (d *Dir) Get(ctx context.Context, digest string) ([]byte, error) {
	if err := checkDigest(digest); err != nil {
		return nil, fmt.Errorf("artifact get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("artifact get %s: %w", digest, err)
	}
	data, err := d.read(digest)
	if err != nil {
		return nil, fmt.Errorf("artifact get %s: %w", digest, err)
	}
	if err := verify(digest, data); err != nil {
		return nil, err
	}
	return data, nil
}

// read returns the file's bytes, at most maxBytes of them.
func (d *Dir) read(digest string) ([]byte, error) {
	f, err := os.Open(d.path(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", d.path(digest))
	}
	if info.Size() > d.maxBytes {
		return nil, tooLarge(info.Size(), d.maxBytes)
	}
	// The size may change under us; never read past the cap.
	data, err := io.ReadAll(io.LimitReader(f, d.maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > d.maxBytes {
		return nil, tooLarge(int64(len(data)), d.maxBytes)
	}
	return data, nil
}

// Has implements Store.
func (d *Dir) Has(ctx context.Context, digest string) (bool, error) {
	if err := checkDigest(digest); err != nil {
		return false, fmt.Errorf("artifact has: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("artifact has %s: %w", digest, err)
	}
	info, err := os.Stat(d.path(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("artifact has %s: %w", digest, err)
	}
	return info.Mode().IsRegular(), nil
}
