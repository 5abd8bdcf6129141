package npm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/diag"
)

// readSmall reads a regular file of at most limit bytes: never a device
// or FIFO, which would block or never end.
func readSmall(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", filepath.Base(name))
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d KiB", filepath.Base(name), limit>>10)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

func (r ImportRef) errorf(format string, args ...any) diag.Diagnostic {
	return diag.New(RuleBuildError, r.File, r.Line, r.Col, format, args...)
}

// nodeBuiltins are left to the bundler, which explains that workflows do
// not run on Node.js.
var nodeBuiltins = []string{
	"assert", "buffer", "child_process", "crypto", "dns", "events", "fs", "http", "http2", "https",
	"net", "os", "path", "process", "querystring", "readline", "stream", "string_decoder", "timers",
	"tls", "url", "util", "vm", "worker_threads", "zlib",
}

// ImportRef is the first place the repository imports a package.
type ImportRef struct {
	Package string `json:"package"` // "@scope/name" or "name"
	Spec    string `json:"spec"`    // the import path as written
	File    string `json:"file"`    // repository-relative, slash-separated
	Line    int    `json:"line"`
	Col     int    `json:"col"`
}

// ScanFunc lists the packages a repository's entries import (see
// ScanImports). Options.ScanImports takes one, so a caller can run the
// scan, which parses repository content, in a builder process.
type ScanFunc func(ctx context.Context, root string, entries []string) ([]ImportRef, []diag.Diagnostic, error)

// ScanImports lists the packages the entries import, directly or through
// the repository's own files, sorted by package name, the first
// reference to each. It parses repository content in this process, behind
// the bundler's walls (bundle.Config.Imports). Node.js built-ins are left
// to the bundler, which explains that workflows do not run on Node.js.
func ScanImports(ctx context.Context, root string, entries []string) ([]ImportRef, []diag.Diagnostic, error) {
	return ScanWith(bundle.Config{}, root, entries), nil, ctx.Err()
}

// ScanWith is ScanImports with a bundler configuration (the builder sets
// its OnParse hook).
func ScanWith(c bundle.Config, root string, entries []string) []ImportRef {
	imps, _ := c.Imports(root, entries)
	var refs []ImportRef
	for _, imp := range imps {
		name := packageName(imp.Spec)
		if builtin := strings.TrimPrefix(name, "node:"); strings.HasPrefix(name, "node:") || slices.Contains(nodeBuiltins, builtin) {
			continue
		}
		line, col := locate(filepath.Join(root, filepath.FromSlash(imp.File)), imp.Spec)
		refs = append(refs, ImportRef{Package: name, Spec: imp.Spec, File: imp.File, Line: line, Col: col})
	}
	return firstPerPackage(refs)
}

// firstPerPackage keeps the first reference to each package, by file then
// position, sorted by package name.
func firstPerPackage(refs []ImportRef) []ImportRef {
	slices.SortStableFunc(refs, func(a, b ImportRef) int {
		if c := strings.Compare(a.Package, b.Package); c != 0 {
			return c
		}
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return slices.CompactFunc(refs, func(a, b ImportRef) bool { return a.Package == b.Package })
}

// locate finds the import path spec written as a string literal in file,
// as a 1-based line and column of its opening quote (1:1 when not found).
func locate(file, spec string) (int, int) {
	src, err := readSmall(file, bundle.MaxSourceBytes)
	if err != nil {
		return 1, 1
	}
	off := -1
	for _, q := range []string{`"`, `'`, "`"} {
		if i := bytes.Index(src, []byte(q+spec+q)); i >= 0 && (off < 0 || i < off) {
			off = i
		}
	}
	if off < 0 {
		return 1, 1
	}
	line := bytes.Count(src[:off], []byte("\n")) + 1
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return line, utf8.RuneCount(src[start:off]) + 1
}

// packageName returns the package an import path names: "@a/b/c" → "@a/b".
func packageName(p string) string {
	parts := strings.Split(p, "/")
	if strings.HasPrefix(p, "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// validName reports whether name is a package name npm accepts, so it can
// be put in a URL and a path safely.
func validName(name string) error {
	scope, base, scoped := strings.Cut(name, "/")
	if !scoped {
		base, scope = scope, ""
	} else if !strings.HasPrefix(scope, "@") || len(scope) < 2 {
		return fmt.Errorf("invalid package name %q", name)
	} else {
		scope = scope[1:]
	}
	if base == "" {
		return fmt.Errorf("invalid package name %q", name)
	}
	for _, part := range []string{scope, base} {
		if len(part) > 214 || strings.HasPrefix(part, ".") {
			return fmt.Errorf("invalid package name %q", name)
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
				return fmt.Errorf("invalid package name %q", name)
			}
		}
	}
	return nil
}
