package npm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/flowgate/flowgate/internal/diag"
)

// importRef is the first place the repository imports a package.
type importRef struct {
	pkg       string // package name: "@scope/name" or "name"
	spec      string // the import path as written
	file      string // repository-relative, slash-separated
	line, col int
}

func (r importRef) errorf(format string, args ...any) diag.Diagnostic {
	return diag.Errorf(RuleBuildError, r.file, r.line, r.col, format, args...)
}

// nodeBuiltins are left to the bundler, which explains that workflows do
// not run on Node.js.
var nodeBuiltins = []string{
	"assert", "buffer", "child_process", "crypto", "dns", "events", "fs", "http", "http2", "https",
	"net", "os", "path", "process", "querystring", "readline", "stream", "string_decoder", "timers",
	"tls", "url", "util", "vm", "worker_threads", "zlib",
}

// scanImports lists the packages the entries import, directly or through
// the repository's own files, sorted by package name. esbuild decides what
// is an import (comments, strings and type-only imports are not); every
// package import is kept external, so no package file is read.
func scanImports(root string, entries []string) ([]importRef, []diag.Diagnostic) {
	if len(entries) == 0 {
		return nil, nil
	}
	opts := api.BuildOptions{
		AbsWorkingDir: root,
		Bundle:        true,
		Write:         false,
		Outdir:        filepath.Join(root, "flowgate-npm-scan"),
		Format:        api.FormatCommonJS,
		Platform:      api.PlatformNeutral,
		Metafile:      true,
		LogLevel:      api.LogLevelSilent,
		Plugins: []api.Plugin{{Name: "flowgate-npm-scan", Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `^[^./]`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
				if filepath.IsAbs(args.Path) {
					return api.OnResolveResult{}, nil
				}
				return api.OnResolveResult{Path: args.Path, External: true}, nil
			})
		}}},
	}
	for _, e := range entries {
		opts.EntryPoints = append(opts.EntryPoints, filepath.Join(root, filepath.FromSlash(e)))
	}
	res := api.Build(opts)
	if len(res.Errors) > 0 && len(entries) > 1 {
		// One broken file must not hide the others' imports; the bundler
		// reports the error itself.
		var all []importRef
		for _, e := range entries {
			more, _ := scanImports(root, []string{e})
			all = append(all, more...)
		}
		return firstPerPackage(all), nil
	}
	var meta struct {
		Inputs map[string]struct {
			Imports []struct {
				Path     string `json:"path"`
				External bool   `json:"external"`
			} `json:"imports"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(res.Metafile), &meta); err != nil {
		return nil, nil
	}
	var refs []importRef
	for _, file := range slices.Sorted(mapsKeys(meta.Inputs)) {
		rel := filepath.ToSlash(file)
		if strings.Contains("/"+rel, "/node_modules/") {
			continue
		}
		for _, imp := range meta.Inputs[file].Imports {
			if !imp.External {
				continue
			}
			name := packageName(imp.Path)
			if builtin := strings.TrimPrefix(name, "node:"); strings.HasPrefix(name, "node:") || slices.Contains(nodeBuiltins, builtin) {
				continue
			}
			line, col := locate(filepath.Join(root, file), imp.Path)
			refs = append(refs, importRef{pkg: name, spec: imp.Path, file: rel, line: line, col: col})
		}
	}
	return firstPerPackage(refs), nil
}

// firstPerPackage keeps the first reference to each package, by file then
// position, sorted by package name.
func firstPerPackage(refs []importRef) []importRef {
	slices.SortStableFunc(refs, func(a, b importRef) int {
		if c := strings.Compare(a.pkg, b.pkg); c != 0 {
			return c
		}
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		if a.line != b.line {
			return a.line - b.line
		}
		return a.col - b.col
	})
	return slices.CompactFunc(refs, func(a, b importRef) bool { return a.pkg == b.pkg })
}

// locate finds the import path spec written as a string literal in file,
// as a 1-based line and column of its opening quote (1:1 when not found).
func locate(file, spec string) (int, int) {
	src, err := os.ReadFile(file)
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
