// Package safetar extracts gzipped tar archives that come from outside
// (GitHub's repository tarballs, npm package tarballs) into a directory,
// refusing anything that could write or point outside it or exhaust the
// disk, memory or CPU: absolute and `..` paths, devices and FIFOs, too many
// entries (directories and links count), too many bytes written or
// decompressed, names too long or too deep. Only regular files and
// directories are written; links are skipped and only counted.
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
	// MaxEntries counts every entry the archive holds (directories, links,
	// skipped and header entries included) plus every directory created
	// for a file's parents; default 2 × MaxFiles.
	MaxEntries int
	// MaxStreamBytes bounds the uncompressed tar stream read, headers and
	// the bodies of skipped entries included, so a small gzip cannot make
	// the extractor decompress gigabytes; default MaxBytes + 4 KiB per entry.
	MaxStreamBytes int64
	MaxPathLen     int // bytes in one entry's name; default 1,024
	MaxDepth       int // path elements in one entry's name; default 64
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
	if l.MaxEntries <= 0 {
		l.MaxEntries = 2 * l.MaxFiles
	}
	if l.MaxStreamBytes <= 0 {
		l.MaxStreamBytes = l.MaxBytes + int64(l.MaxEntries)*4096
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = 1024
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
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

// Stats says what an extraction wrote. Skipped entries are only counted:
// keeping their names would let an archive of empty links fill memory.
type Stats struct {
	Files   int
	Dirs    int
	Bytes   int64
	Entries int // every entry read, and every directory created
	Skipped int // links and entries of unknown types that were left out
}

// Extract reads a gzipped tar from r into dir, which must exist and should
// be empty. Symbolic and hard links are skipped and counted in
// Stats.Skipped (a repository's committed links must never point the
// bundler at host files); devices and FIFOs, unsafe paths and exceeded
// limits abort with an error wrapping ErrUnsafe or ErrTooLarge. On error,
// dir may hold part of the archive: callers extract into a fresh
// temporary directory.
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

	x := &extractor{lim: lim, root: root, dirs: map[string]bool{}}
	stream := &streamCap{r: r, left: lim.MaxStreamBytes}
	tr := tar.NewReader(stream)
	for {
		h, err := tr.Next()
		if stream.over {
			return x.st, x.tooLarge("the archive unpacks to more than %d bytes", lim.MaxStreamBytes)
		}
		if err == io.EOF {
			return x.st, nil
		}
		if err != nil {
			return x.st, fmt.Errorf("read archive: %w", err)
		}
		if err := x.entry(tr, h, opts.StripComponents); err != nil {
			if stream.over {
				return x.st, x.tooLarge("the archive unpacks to more than %d bytes", lim.MaxStreamBytes)
			}
			return x.st, err
		}
	}
}

type extractor struct {
	lim  Limits
	root *os.Root
	st   Stats
	// dirs holds the directories created so far (bounded by MaxEntries),
	// so a file's parents are counted once and made without MkdirAll.
	dirs map[string]bool
}

func (x *extractor) tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrTooLarge}, args...)...)
}

func (x *extractor) count() error {
	if x.st.Entries >= x.lim.MaxEntries {
		return x.tooLarge("more than %d entries (files, directories and links)", x.lim.MaxEntries)
	}
	x.st.Entries++
	return nil
}

func (x *extractor) entry(tr *tar.Reader, h *tar.Header, strip int) error {
	if err := x.count(); err != nil {
		return err
	}
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil // pax global header (git archive writes the commit id there)
	}
	if len(h.Name) > x.lim.MaxPathLen {
		return x.tooLarge("an entry's name is %d bytes long (limit %d)", len(h.Name), x.lim.MaxPathLen)
	}
	name, err := cleanName(h.Name, strip)
	if err != nil {
		return err
	}
	if d := strings.Count(name, "/") + 1; d > x.lim.MaxDepth {
		return x.tooLarge("%.100s… is %d directories deep (limit %d)", name, d, x.lim.MaxDepth)
	}
	switch h.Typeflag {
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%w: %.200s is a device or FIFO", ErrUnsafe, h.Name)
	}
	if name == "" {
		return nil
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if x.dirs[name] {
			return nil
		}
		x.st.Entries-- // counted above; mkdirs counts the directory it makes
		return x.mkdirs(name, h.Name)
	case tar.TypeReg:
		if h.Size > x.lim.MaxFileBytes {
			return x.tooLarge("%s is %d bytes (limit %d)", name, h.Size, x.lim.MaxFileBytes)
		}
		if x.st.Files+1 > x.lim.MaxFiles {
			return x.tooLarge("more than %d files", x.lim.MaxFiles)
		}
		if x.st.Bytes+h.Size > x.lim.MaxBytes {
			return x.tooLarge("more than %d bytes in all", x.lim.MaxBytes)
		}
		if dir := path.Dir(name); dir != "." {
			if err := x.mkdirs(dir, h.Name); err != nil {
				return err
			}
		}
		n, err := writeFile(x.root, name, tr, h, x.lim.MaxFileBytes)
		if err != nil {
			return err
		}
		x.st.Files++
		x.st.Bytes += n
	default:
		// Links and types this extractor does not know: never materialised.
		x.st.Skipped++
	}
	return nil
}

// mkdirs creates dir and its missing parents under the root, counting each
// new one as an entry. os.Root refuses any path that resolves outside.
func (x *extractor) mkdirs(dir, entry string) error {
	if x.dirs[dir] {
		return nil
	}
	if p := path.Dir(dir); p != "." {
		if err := x.mkdirs(p, entry); err != nil {
			return err
		}
	}
	if err := x.count(); err != nil {
		return err
	}
	if err := x.root.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %.200s: %.200s is a file and a directory", ErrUnsafe, entry, dir)
		}
		return fmt.Errorf("%w: %.200s: %v", ErrUnsafe, entry, err)
	}
	x.dirs[dir] = true
	x.st.Dirs++
	return nil
}

// streamCap reads at most left bytes, then fails and notes it.
type streamCap struct {
	r    io.Reader
	left int64
	over bool
}

var errStreamCap = errors.New("tar stream over its limit")

func (s *streamCap) Read(p []byte) (int, error) {
	if s.left <= 0 {
		s.over = true
		return 0, errStreamCap
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}

// writeFile creates name under root (its parents exist) with h's content.
// os.Root refuses any path that would resolve outside the directory, even
// through a link created by an earlier entry.
func writeFile(root *os.Root, name string, r io.Reader, h *tar.Header, max int64) (int64, error) {
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
