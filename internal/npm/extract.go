package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// errTooBig is returned when a tarball unpacks to more than allowed.
var errTooBig = errors.New("the tarball unpacks to more than the allowed size")

// capped reads at most n bytes, then fails with errTooBig (a gzip bomb
// stops here, whatever the tar headers claim).
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

// extract unpacks the npm tarball tgz into target, replacing it. The
// first path component of every entry (npm's "package/") is dropped.
// Refused: absolute paths, ".." components, links of any kind, devices,
// more than MaxFiles entries, more than MaxUnpackedBytes. Files are
// written into a fresh folder that is renamed into place at the end, so a
// refused tarball leaves nothing behind.
func extract(tgz []byte, target string, opts Options) error {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return fmt.Errorf("not a gzip file: %w", err)
	}
	defer gz.Close()
	// Headers and padding count too: a generous allowance over the files.
	tr := tar.NewReader(&capped{r: gz, n: opts.MaxUnpackedBytes + int64(opts.MaxFiles)*2048})
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(target), ".unpack-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files, total := 0, int64(0)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, errTooBig) {
				return errTooBig
			}
			return fmt.Errorf("read tarball: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		rel, err := entryPath(h.Name)
		if err != nil {
			return err
		}
		if files++; files > opts.MaxFiles {
			return fmt.Errorf("the tarball has more than %d entries", opts.MaxFiles)
		}
		if rel == "" {
			continue
		}
		dst := filepath.Join(tmp, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if h.Size < 0 || total+h.Size > opts.MaxUnpackedBytes {
				return errTooBig
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return fmt.Errorf("entry %q: %w", h.Name, err)
			}
			n, err := io.Copy(f, io.LimitReader(tr, h.Size))
			cerr := f.Close()
			total += n
			if err := errors.Join(err, cerr); err != nil {
				if errors.Is(err, errTooBig) {
					return errTooBig
				}
				return fmt.Errorf("entry %q: %w", h.Name, err)
			}
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("entry %q is a link (to %q): package tarballs with links are refused", h.Name, h.Linkname)
		default:
			return fmt.Errorf("entry %q has type %q: only files and folders are allowed", h.Name, string(h.Typeflag))
		}
	}
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	return os.Chmod(target, 0o755)
}

// entryPath is an entry's path below the package folder, slash-separated,
// or an error when it could leave it.
func entryPath(name string) (string, error) {
	if strings.ContainsRune(name, '\\') || strings.ContainsRune(name, 0) || path.IsAbs(name) {
		return "", fmt.Errorf("entry %q has an unsafe path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the package folder", name)
		}
	}
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	_, rel, _ := strings.Cut(clean, "/")
	return rel, nil
}
