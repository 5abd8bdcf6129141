package bundle

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
)

// Limits of Preflight.
const (
	// MaxConfigBytes is the largest package.json, tsconfig.json or Yarn
	// PnP manifest esbuild may read while it resolves.
	MaxConfigBytes = 1 << 20
	// MaxTreeEntries bounds the files and folders Preflight looks at.
	MaxTreeEntries = 200_000
	// MaxPackageEntries bounds the files and folders Preflight looks at
	// in a committed node_modules.
	MaxPackageEntries = 1_000_000
	// maxExtends bounds a tsconfig "extends" chain.
	maxExtends = 8
)

// resolverFiles are the files esbuild reads and parses on its own while it
// resolves imports, without asking a plugin: the guard never sees them.
var resolverFiles = map[string]bool{
	"package.json": true, "tsconfig.json": true, "jsconfig.json": true,
	".pnp.data.json": true, ".pnp.cjs": true, ".pnp.js": true,
}

// Preflight checks a repository before esbuild runs on it: no device,
// FIFO or socket anywhere in it (reading one blocks or never ends), and
// every file esbuild reads on its own while resolving (package.json,
// tsconfig.json, jsconfig.json, Yarn PnP manifests) is a small regular
// file of a shape its parser survives, whose tsconfig "extends" stays
// inside the repository (a package it extends is checked where esbuild
// would find it). A committed node_modules is checked too, with a budget
// of its own; .git is not entered. The diagnostics are located in the
// offending file.
func Preflight(root string) []diag.Diagnostic {
	var ds []diag.Diagnostic
	n, inPackages := 0, 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: esbuild reports what it needs
		}
		rel := relSlash(root, p)
		// A committed node_modules is read by esbuild as much as the
		// repository's own files (package.json while it resolves, a
		// tsconfig a package name extends), so it is checked too, with a
		// budget of its own: installed packages hold many files.
		if strings.HasPrefix(rel, "node_modules/") || strings.Contains(rel, "/node_modules/") {
			if inPackages++; inPackages > MaxPackageEntries {
				ds = append(ds, diag.New(RuleBuildError, "node_modules", 1, 1,
					"the repository's node_modules has more than %d files and folders: install only the packages the workflows need", MaxPackageEntries))
				return filepath.SkipAll
			}
		} else if n++; n > MaxTreeEntries {
			ds = append(ds, diag.New(RuleBuildError, ".", 1, 1,
				"the repository has more than %d files and folders: Flowgate builds workflow repositories, not whole monorepos", MaxTreeEntries))
			return filepath.SkipAll
		}
		if d.IsDir() {
			if p != root && d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		mode := d.Type()
		if mode&fs.ModeSymlink != 0 {
			info, err := os.Stat(p)
			if err != nil {
				return nil // dangling: harmless until imported
			}
			mode = info.Mode()
		}
		if mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
			ds = append(ds, diag.New(RuleBuildError, rel, 1, 1,
				"%s is %s, not a regular file: reading it could block the build or never end. Remove it from the repository", rel, fileKind(mode)))
			return nil
		}
		if resolverFiles[d.Name()] && mode.IsRegular() {
			ds = append(ds, checkConfig(root, p, 0)...)
		}
		return nil
	})
	if err != nil {
		ds = append(ds, diag.New(RuleBuildError, ".", 1, 1, "the repository cannot be read: %v", err))
	}
	diag.Sort(ds)
	return ds
}

// checkConfig checks one resolver file, and what a tsconfig extends.
func checkConfig(root, p string, depth int) []diag.Diagnostic {
	rel := relSlash(root, p)
	data, err := readRegular(p, MaxConfigBytes)
	if err != nil {
		return []diag.Diagnostic{diag.New(RuleBuildError, rel, 1, 1, "%s cannot be used: %v", rel, err)}
	}
	if msg, line := checkShape(rel, data); msg != "" {
		return []diag.Diagnostic{diag.New(RuleBuildError, rel, line, 1, "%s", msg)}
	}
	name := filepath.Base(p)
	if name != "tsconfig.json" && name != "jsconfig.json" && depth == 0 {
		return nil
	}
	var ds []diag.Diagnostic
	for _, ext := range extendsOf(data) {
		line, col := position(data, ext.off)
		target, ok := extendsTarget(root, filepath.Dir(p), ext.path)
		switch {
		case !ok:
			ds = append(ds, diag.New(RuleLinkOutsideRepo, rel, line, col,
				"%s extends a file outside the repository: a tsconfig may only extend files inside it or an installed package", rel))
		case target == "":
			// a package, or a file that does not exist: esbuild reports it
		case depth >= maxExtends:
			ds = append(ds, diag.New(RuleBuildError, rel, line, col,
				"%s extends a chain of more than %d tsconfig files: shorten the chain", rel, maxExtends))
		default:
			ds = append(ds, checkConfig(root, target, depth+1)...)
		}
	}
	return ds
}

// extendsTarget resolves a tsconfig "extends" value written in dir: ok is
// false when it names a file outside root (by path or through links);
// target is the existing file inside root it names, or "" for a package
// or a missing file.
func extendsTarget(root, dir, ext string) (target string, ok bool) {
	if isBare(ext) && !filepath.IsAbs(ext) {
		// A package: esbuild looks in node_modules of every folder up
		// from dir. The file it would read, through links too, is checked
		// like any tsconfig (a link to /dev/zero is not a regular file).
		for d := dir; lexicallyInside(root, d); d = filepath.Dir(d) {
			base := filepath.Join(d, "node_modules", filepath.FromSlash(ext))
			for _, c := range []string{base, base + ".json", filepath.Join(base, "tsconfig.json")} {
				if info, err := os.Stat(c); err == nil && !info.IsDir() {
					return c, true
				}
			}
			if d == root {
				break
			}
		}
		return "", true
	}
	p := ext
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if !lexicallyInside(root, p) {
		return "", false
	}
	for _, c := range []string{p, p + ".json", filepath.Join(p, "tsconfig.json")} {
		info, err := os.Stat(c)
		if err != nil || info.IsDir() {
			continue
		}
		if !newFence(root, nil).allows(c) {
			return "", false
		}
		return c, true
	}
	return "", true
}

// extends is one "extends" string of a tsconfig and its byte offset.
type extends struct {
	path string
	off  int
}

// extendsOf finds the "extends" values of a tsconfig text (a string or an
// array of strings) the way esbuild's lenient JSON reader sees them:
// comments anywhere, single or double quotes, escapes decoded ("ext\u0065nds"
// is extends). A key at any depth counts, so the check errs on the side
// of looking at more.
func extendsOf(data []byte) []extends {
	toks := jsoncTokens(data)
	var out []extends
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].str == nil || *toks[i].str != "extends" || toks[i+1].punct != ':' {
			continue
		}
		v := toks[i+2]
		switch {
		case v.str != nil:
			out = append(out, extends{path: *v.str, off: v.off})
		case v.punct == '[':
			for j := i + 3; j < len(toks) && toks[j].punct != ']'; j++ {
				if toks[j].str != nil {
					out = append(out, extends{path: *toks[j].str, off: toks[j].off})
				}
			}
		}
	}
	return out
}

// jsoncToken is a string (decoded) or one punctuation byte of a JSON text
// with comments.
type jsoncToken struct {
	str   *string
	punct byte
	off   int
}

// jsoncTokens splits a JSON-with-comments text into strings and
// punctuation, skipping comments, whitespace and bare words.
func jsoncTokens(data []byte) []jsoncToken {
	var toks []jsoncToken
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := bytes.Index(data[i+2:], []byte("*/"))
			if end < 0 {
				return toks
			}
			i += end + 3
		case c == '"' || c == '\'':
			start := i
			var b strings.Builder
			for i++; i < len(data) && data[i] != c; i++ {
				if data[i] != '\\' || i+1 >= len(data) {
					b.WriteByte(data[i])
					continue
				}
				i++
				i += unescape(&b, data, i)
			}
			str := b.String()
			toks = append(toks, jsoncToken{str: &str, off: start})
		case strings.IndexByte("{}[]:,", c) >= 0:
			toks = append(toks, jsoncToken{punct: c, off: i})
		}
	}
	return toks
}

// unescape writes the escape whose letter is data[i] (after a backslash)
// and returns how many bytes past i it used.
func unescape(b *strings.Builder, data []byte, i int) int {
	hex := func(from, n int) (rune, bool) {
		if from+n > len(data) {
			return 0, false
		}
		v, err := strconv.ParseUint(string(data[from:from+n]), 16, 32)
		return rune(v), err == nil
	}
	switch data[i] {
	case 'u':
		if i+1 < len(data) && data[i+1] == '{' {
			if end := bytes.IndexByte(data[i+2:], '}'); end >= 0 {
				if r, ok := hex(i+2, end); ok {
					b.WriteRune(r)
					return end + 2
				}
			}
		} else if r, ok := hex(i+1, 4); ok {
			b.WriteRune(r)
			return 4
		}
	case 'x':
		if r, ok := hex(i+1, 2); ok {
			b.WriteRune(r)
			return 2
		}
	case 'n':
		b.WriteByte('\n')
		return 0
	case 't':
		b.WriteByte('\t')
		return 0
	case 'r':
		b.WriteByte('\r')
		return 0
	case 'b':
		b.WriteByte('\b')
		return 0
	case 'f':
		b.WriteByte('\f')
		return 0
	case '\n':
		return 0 // a line continuation
	}
	b.WriteByte(data[i])
	return 0
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int) (int, int) {
	line := bytes.Count(data[:off], []byte("\n")) + 1
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, len([]rune(string(data[start:off]))) + 1
}

func relSlash(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return filepath.Base(p)
	}
	return filepath.ToSlash(rel)
}

// workDir is esbuild's working folder for a build root: esbuild resolves
// links in it and reads the package.json and tsconfig.json of it and of
// every folder above it, so a guarded root gets /proc (whose only parent
// is /), and paths esbuild reports are relative to it.
func workDir(root string) string {
	if strings.HasPrefix(root, "/proc/self/fd/") {
		return "/proc"
	}
	return root
}

// guardedRoot returns a path to root whose parent folders hold no
// package.json, tsconfig.json or node_modules anyone but the kernel
// controls, so esbuild's lookups up the folder tree stop at the
// repository: on Linux /proc/self/fd/N for an open descriptor of root
// (its parents are /proc/self/fd, /proc/self, /proc and /). Elsewhere it
// is root itself. done closes the descriptor.
func guardedRoot(root string) (string, func()) {
	f, err := os.Open(root)
	if err != nil {
		return root, func() {}
	}
	p := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if info, err := os.Stat(p); err != nil || !info.IsDir() || !strings.HasPrefix(p, "/proc/") {
		f.Close()
		return root, func() {}
	}
	return p, func() { f.Close() }
}
