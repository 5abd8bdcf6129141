package npm

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowgate/flowgate/internal/safetar"
)

// extract unpacks the npm tarball tgz into target, replacing it, through
// safetar: npm's leading "package/" is stripped; absolute and ".." paths
// and exceeded limits are refused; links and devices are never written
// (they are left out). The files land in a fresh folder that is renamed
// into place at the end, so a refused tarball leaves nothing behind.
func extract(tgz []byte, target string, opts Options) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(target), ".unpack-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	defer gz.Close()
	// The whole decompressed stream is capped too: entries safetar leaves
	// out (links, devices) still have their bodies read past.
	limit := opts.MaxUnpackedBytes + int64(opts.MaxFiles+16)*4096
	stream := &capped{r: gz, n: limit}
	_, err = safetar.ExtractTar(stream, tmp, safetar.Options{
		StripComponents: 1,
		Limits:          safetar.Limits{MaxFiles: opts.MaxFiles, MaxBytes: opts.MaxUnpackedBytes, MaxFileBytes: opts.MaxUnpackedBytes},
	})
	if errors.Is(err, errTooBig) {
		return fmt.Errorf("%w: the tarball decompresses to more than %d bytes", safetar.ErrTooLarge, limit)
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("replace %s: %w", target, err)
	}
	return os.Rename(tmp, target)
}

// errTooBig ends a decompressed stream that is longer than allowed.
var errTooBig = errors.New("decompressed stream over its limit")

// capped reads at most n bytes, then fails with errTooBig, whatever the
// tar headers claim (a gzip bomb stops here).
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errTooBig
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}
