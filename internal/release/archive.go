// Package release writes the parts of a Flowgate release that must come out
// byte for byte the same from the same tag: archives with fixed metadata,
// an SPDX SBOM read from a binary's own build information, and the
// checksums.txt that the GitHub Action verifies downloads against.
// .ci/release.sh drives it through the releasetool command.
package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Entry is one file to put in an archive: Name inside the archive, read
// from Path on disk.
type Entry struct {
	Name string
	Path string
}

// Archive metadata is fixed so the bytes depend only on the file contents:
// owner root, a given mtime (the commit's time), entries sorted by name and
// modes that are 0755 for executables and 0644 otherwise.
const (
	modeExec  = 0o755
	modePlain = 0o644
)

// WriteArchive writes entries to w as a tar.gz or a zip, chosen by the
// archive's file name (name ends in .tar.gz or .zip).
func WriteArchive(w io.Writer, name string, entries []Entry, mtime time.Time) error {
	sorted, err := checkEntries(entries)
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(name, ".tar.gz"):
		return writeTarGz(w, sorted, mtime)
	case strings.HasSuffix(name, ".zip"):
		return writeZip(w, sorted, mtime)
	}
	return fmt.Errorf("archive %s: name must end in .tar.gz or .zip", name)
}

// checkEntries refuses names that would unpack outside the current
// directory or collide, and returns the entries sorted by name.
func checkEntries(entries []Entry) ([]Entry, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("archive: no files to put in it")
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Name == "" || e.Name != path.Clean(e.Name) || path.IsAbs(e.Name) ||
			e.Name == ".." || strings.HasPrefix(e.Name, "../") || strings.Contains(e.Name, `\`) {
			return nil, fmt.Errorf("archive: entry name %q must be a clean relative path", e.Name)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("archive: entry %q appears twice", e.Name)
		}
		seen[e.Name] = true
	}
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return sorted, nil
}

func readEntry(e Entry) ([]byte, int64, error) {
	fi, err := os.Stat(e.Path)
	if err != nil {
		return nil, 0, fmt.Errorf("archive entry %s: %w", e.Name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("archive entry %s: %s is not a regular file", e.Name, e.Path)
	}
	data, err := os.ReadFile(e.Path)
	if err != nil {
		return nil, 0, fmt.Errorf("archive entry %s: %w", e.Name, err)
	}
	mode := int64(modePlain)
	if fi.Mode()&0o111 != 0 {
		mode = modeExec
	}
	return data, mode, nil
}

func writeTarGz(w io.Writer, entries []Entry, mtime time.Time) error {
	// A zero gzip header: no file name, no modification time.
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		data, mode, err := readEntry(e)
		if err != nil {
			return err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.Name,
			Mode:     mode,
			Size:     int64(len(data)),
			ModTime:  mtime.UTC().Truncate(time.Second),
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("archive entry %s: %w", e.Name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []Entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		data, mode, err := readEntry(e)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: mtime.UTC().Truncate(time.Second)}
		hdr.SetMode(os.FileMode(mode))
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("archive entry %s: %w", e.Name, err)
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}
