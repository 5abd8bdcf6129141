// Package safetar extracts gzipped tar archives that come from outside
// (GitHub's repository tarballs, npm package tarballs) into a directory,
// refusing anything that could write or point outside it or exhaust the
// disk: absolute and `..` paths, links, devices, too many files, too many
// bytes. Only regular files and directories are written.
package safetar

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits bound one extraction. A zero field takes its default.
type Limits struct {
	MaxFiles     int   // regular files written; default 10,000
	MaxFileBytes int64 // one file's size; default 5 MiB
	MaxBytes     int64 // all files together; default 100 MiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 10_000
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = 5 << 20
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 100 << 20
	}
	return l
}

// Options shape one extraction.
type Options struct {
	Limits Limits
	// StripComponents removes this many leading path elements from every
	// entry (GitHub tarballs put everything under "owner-repo-sha/", npm
	// tarballs under "package/"). Entries with no path left are skipped.
	StripComponents int
}

// ErrUnsafe is wrapped by every refusal of an entry's path or type.
var ErrUnsafe = errors.New("unsafe archive entry")

// ErrTooLarge is wrapped by every refusal over a limit.
var ErrTooLarge = errors.New("archive over its limits")

// Stats says what an extraction wrote.
type Stats struct {
	Files   int
	Bytes   int64
	Skipped []string // links and other non-regular entries that were left out
}

// Extract reads a gzipped tar from r into dir, which must exist and should
// be empty. Symbolic and hard links, devices and FIFOs are skipped and
// listed in Stats.Skipped (a repository's committed links must never point
// the bundler at host files); unsafe paths and exceeded limits abort with
// an error wrapping ErrUnsafe or ErrTooLarge. On error, dir may hold part
// of the archive: callers extract into a fresh temporary directory.
func Extract(r io.Reader, dir string, opts Options) (Stats, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Stats{}, fmt.Errorf("read archive: %w", err)
	}
	defer zr.Close()
	return ExtractTar(zr, dir, opts)
}

// ExtractTar is Extract for an uncompressed tar stream.
func ExtractTar(r io.Reader, dir string, opts Options) (Stats, error) {
	lim := opts.Limits.withDefaults()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("open destination: %w", err)
	}
	defer root.Close()

	var st Stats
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("read archive: %w", err)
		}
		name, err := cleanName(h.Name, opts.StripComponents)
		if err != nil {
			return st, err
		}
		if name == "" {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return st, fmt.Errorf("%w: %s: %v", ErrUnsafe, h.Name, err)
			}
		case tar.TypeReg:
			if h.Size > lim.MaxFileBytes {
				return st, fmt.Errorf("%w: %s is %d bytes (limit %d)", ErrTooLarge, h.Name, h.Size, lim.MaxFileBytes)
			}
			if st.Files+1 > lim.MaxFiles {
				return st, fmt.Errorf("%w: more than %d files", ErrTooLarge, lim.MaxFiles)
			}
			if st.Bytes+h.Size > lim.MaxBytes {
				return st, fmt.Errorf("%w: more than %d bytes in all", ErrTooLarge, lim.MaxBytes)
			}
			n, err := writeFile(root, name, tr, h, lim.MaxFileBytes)
			if err != nil {
				return st, err
			}
			st.Files++
			st.Bytes += n
		case tar.TypeXGlobalHeader:
			// pax global header (git archive writes the commit id there)
		default:
			// Links, devices, FIFOs: never materialised.
			st.Skipped = append(st.Skipped, name)
		}
	}
}

// writeFile creates name under root (parents included) with h's content.
// os.Root refuses any path that would resolve outside the directory, even
// through a link created by an earlier entry.
func writeFile(root *os.Root, name string, r io.Reader, h *tar.Header, max int64) (int64, error) {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return 0, fmt.Errorf("%w: %s: %v", ErrUnsafe, h.Name, err)
		}
	}
	mode := fs.FileMode(0o644)
	if h.Mode&0o111 != 0 {
		mode = 0o755
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("%w: %s appears twice", ErrUnsafe, h.Name)
		}
		return 0, fmt.Errorf("%w: %s: %v", ErrUnsafe, h.Name, err)
	}
	// The header's size is checked; the copy is bounded again in case the
	// stream holds more than the header says.
	n, err := io.Copy(f, io.LimitReader(r, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("write %s: %w", name, err)
	}
	if n > max {
		return n, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, h.Name, max)
	}
	return n, nil
}

// cleanName turns an entry name into a safe relative slash path, with the
// first strip elements removed, or refuses it.
func cleanName(name string, strip int) (string, error) {
	if name == "" || strings.ContainsRune(name, 0) || strings.Contains(name, `\`) {
		return "", fmt.Errorf("%w: %q", ErrUnsafe, name)
	}
	if path.IsAbs(name) || filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
		return "", fmt.Errorf("%w: absolute path %q", ErrUnsafe, name)
	}
	parts := strings.Split(strings.TrimSuffix(name, "/"), "/")
	for _, p := range parts {
		if p == ".." {
			return "", fmt.Errorf("%w: %q leaves the archive's directory", ErrUnsafe, name)
		}
	}
	var kept []string
	for _, p := range parts {
		if p != "" && p != "." {
			kept = append(kept, p)
		}
	}
	if len(kept) <= strip {
		return "", nil
	}
	return strings.Join(kept[strip:], "/"), nil
}
