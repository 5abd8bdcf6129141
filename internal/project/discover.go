package project

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
)

// workflowExts are the extensions a workflow file may have (the docs list
// .ts, .js, .tsx and .jsx).
var workflowExts = []string{".ts", ".js", ".tsx", ".jsx"}

// IsWorkflowFile reports whether a file name names a workflow: its base name
// without the extension ends in "workflow" (any case) and the extension is
// .ts, .js, .tsx or .jsx. Type declarations (x.d.ts) are never workflows.
func IsWorkflowFile(name string) bool {
	ext := path.Ext(name)
	if !slices.Contains(workflowExts, ext) {
		return false
	}
	base := strings.ToLower(strings.TrimSuffix(name, ext))
	return strings.HasSuffix(base, "workflow") && !strings.HasSuffix(base, ".d")
}

// discover finds the workflow files under the configured workflows folder
// of root (absolute), as sorted slash-separated repository-relative paths.
// Links are followed only while they stay inside the repository; node_modules
// and .git are skipped.
func discover(root string, c *Config) ([]string, []diag.Diagnostic) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		realRoot = root
	}
	w := walker{root: root, realRoot: realRoot, seen: map[string]bool{}}
	dir := c.WorkflowsDir()
	// Every folder on the way down may itself be a link.
	for p := range pathPrefixes(dir) {
		if !w.insideLink(p) {
			return nil, w.ds
		}
	}
	info, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir)))
	if err != nil || !info.IsDir() {
		line, col := c.KeyPos("rootDir")
		return nil, []diag.Diagnostic{diag.New(RuleNoWorkflows, KindeJSON, line, col,
			"no workflows: the folder %s does not exist. Put workflow files (named like userTokensWorkflow.ts) in %s, or point \"rootDir\" in kinde.json at the folder that holds environment/workflows",
			dir, dir)}
	}
	w.walk(dir)
	slices.Sort(w.files)
	return w.files, w.ds
}

// pathPrefixes yields "a", "a/b", "a/b/c" for "a/b/c".
func pathPrefixes(p string) func(func(string) bool) {
	return func(yield func(string) bool) {
		parts := strings.Split(p, "/")
		for i := range parts {
			if parts[i] == "." {
				continue
			}
			if !yield(strings.Join(parts[:i+1], "/")) {
				return
			}
		}
	}
}

type walker struct {
	root, realRoot string
	seen           map[string]bool // real folders walked, against link loops
	files          []string
	ds             []diag.Diagnostic
}

// insideLink reports whether rel (slash-separated) is not a link, or a link
// whose target is inside the repository; otherwise it records a diagnostic.
func (w *walker) insideLink(rel string) bool {
	abs := filepath.Join(w.root, filepath.FromSlash(rel))
	info, err := os.Lstat(abs)
	if err != nil || info.Mode()&fs.ModeSymlink == 0 {
		return true
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return true // a broken link is simply not there
		}
		real = ""
	}
	if r, err := filepath.Rel(w.realRoot, real); real != "" && err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return true
	}
	w.ds = append(w.ds, diag.New(RuleLinkOutsideRepo, rel, 1, 1,
		"%s is a symbolic link that leads outside the repository, and Flowgate reads only the repository's own files: replace the link with the file or folder itself",
		rel))
	return false
}

// walk visits the folder rel (slash-separated), whose links were checked.
func (w *walker) walk(rel string) {
	abs := filepath.Join(w.root, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(abs)
	if err != nil || w.seen[real] {
		return
	}
	w.seen[real] = true
	entries, err := os.ReadDir(abs)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		child := path.Join(rel, name)
		if !w.insideLink(child) {
			continue
		}
		info, err := os.Stat(filepath.Join(abs, name)) // follows an inside link
		if err != nil {
			continue
		}
		switch {
		case info.IsDir():
			if name != "node_modules" && name != ".git" {
				w.walk(child)
			}
		case info.Mode().IsRegular() && IsWorkflowFile(name):
			w.files = append(w.files, child)
		case info.Mode().IsRegular() && info.Size() <= maxSniff:
			w.notAWorkflow(child)
		}
	}
}

// maxSniff is the largest file checked for a misnamed workflow: workflow
// sources are small, and a big file under the folder is not read at all.
const maxSniff = 1 << 20

// exportedSettings returns the offset of an exported workflowSettings in
// src — `export const|let|var workflowSettings`, `export { workflowSettings }`
// or `exports.workflowSettings =` — ignoring comments and strings.
func exportedSettings(src []byte) (int, bool) {
	toks := lex(src)
	is := func(i int, text string) bool {
		return i < len(toks) && toks[i].kind != tokString && toks[i].text == text
	}
	for i, t := range toks {
		switch {
		case t.kind != tokIdent:
		case t.text == "export" && (is(i+1, "const") || is(i+1, "let") || is(i+1, "var")) && is(i+2, "workflowSettings"):
			return toks[i+2].off, true
		case t.text == "export" && is(i+1, "{"):
			end := i + 2
			for end < len(toks) && end < i+200 && !is(end, "}") {
				end++
			}
			if is(end+1, "from") {
				continue // export { workflowSettings } from "./xWorkflow": a barrel or test helper re-exporting
			}
			for j := i + 2; j < end; j++ {
				// The exported name, declared in this file (not one imported
				// from a workflow to be re-exported).
				local := "workflowSettings"
				if is(j-1, "as") && j-2 > i {
					local = toks[j-2].text
				}
				if is(j, "workflowSettings") && (is(j-1, "as") || !is(j+1, "as")) && declares(toks, local) {
					return toks[j].off, true
				}
			}
		case t.text == "exports" && is(i+1, ".") && is(i+2, "workflowSettings") && is(i+3, "=") && !is(i+4, "="):
			return toks[i+2].off, true
		}
	}
	return 0, false
}

// declares reports whether toks declare name themselves (const, let or
// var), as opposed to importing it.
func declares(toks []token, name string) bool {
	for i := 1; i < len(toks); i++ {
		if toks[i].kind == tokIdent && toks[i].text == name {
			switch toks[i-1].text {
			case "const", "let", "var":
				return toks[i-1].kind == tokIdent
			}
		}
	}
	return false
}

// notAWorkflow warns when the JavaScript or TypeScript file rel exports
// workflowSettings although its name keeps it from being discovered: Kinde
// skips such a file silently, so its trigger never runs.
func (w *walker) notAWorkflow(rel string) {
	name := path.Base(rel)
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	lower := strings.ToLower(base)
	if !slices.Contains(workflowExts, ext) || strings.HasSuffix(lower, ".d") {
		return
	}
	// Test files (x.test.ts, x.spec.ts) export settings for their cases,
	// never to be discovered.
	if strings.HasSuffix(lower, ".test") || strings.HasSuffix(lower, ".spec") {
		return
	}
	src, err := readRegular(filepath.Join(w.root, filepath.FromSlash(rel)), maxSniff)
	if err != nil {
		return
	}
	off, ok := exportedSettings(src)
	if !ok {
		return
	}
	line, col := position(src, off)
	use := base + "Workflow" + ext
	w.ds = append(w.ds, diag.New(RuleNotAWorkflowFile, rel, line, col,
		"%s exports workflowSettings but is not a workflow, because only files whose name ends in \"Workflow\" are discovered: rename it to %s so its trigger runs (or, if it is a shared module, stop exporting workflowSettings from it)",
		name, use))
}
