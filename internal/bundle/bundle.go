// Package bundle turns one workflow file into one self-contained script
// that goja runs as a CommonJS module (it assigns module.exports), with an
// external source map back to the original sources. It uses esbuild,
// resolves imports only from inside the repository, and reports problems
// as located diagnostics (rule build-error).
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/flowgate/flowgate/internal/diag"
)

// Rule ids this package reports.
const (
	RuleBuildError          = diag.RuleBuildError
	RuleMissingOutputBundle = diag.RuleMissingOutputBundle
	// RuleLinkOutsideRepo (the project rule of the same id): an import
	// resolves, through a symbolic link or a relative path, to a file
	// outside the repository and the tool's own package folders.
	RuleLinkOutsideRepo = diag.RuleLinkOutsideRepo
)

// Limits and the language level of every bundle, exported so the runtime
// and the docs can state them.
const (
	// MaxBundleSize is the largest bundle Flowgate deploys: a workflow is
	// compiled and run per invocation, and a bundle past this size almost
	// always means a large library was pulled in by mistake.
	MaxBundleSize = 5 << 20

	// Target is the ECMAScript level bundles are lowered to. goja parses
	// ES2020; newer syntax (logical assignment, class fields …) is lowered.
	Target = api.ES2020
)

// Unsupported lists the syntax goja cannot parse although ES2020 has it;
// esbuild lowers it (async generators and for await become generator-based
// helpers that need no Symbol.asyncIterator).
var Unsupported = []string{"async-generator", "for-await"}

// Output is one workflow's bundle.
type Output struct {
	Code      []byte   // the bundle, run as a CommonJS module: module.exports holds the workflow's exports
	SourceMap []byte   // version 3 source map; sources are relative to the repository root
	SHA256    string   // hex SHA-256 of Code: the bundle's identity
	Inputs    []string // repository-relative, slash-separated files the bundle was built from, sorted
}

// Options returns the esbuild options for bundling the entries (slash-
// separated paths relative to root, an absolute directory) in one run.
// Each entry i is written, in memory only, as <root>/flowgate-bundle-<i>.js
// so source map paths are relative to the root. The plugin that keeps
// resolution inside root is added by BuildAll.
func Options(root string, entries []string) api.BuildOptions {
	supported := map[string]bool{}
	for _, f := range Unsupported {
		supported[f] = false
	}
	eps := make([]api.EntryPoint, len(entries))
	for i, e := range entries {
		eps[i] = api.EntryPoint{InputPath: filepath.Join(root, filepath.FromSlash(e)), OutputPath: outputName(i)}
	}
	return api.BuildOptions{
		AbsWorkingDir:       root,
		EntryPointsAdvanced: eps,
		Outdir:              root,
		Write:               false,
		Bundle:              true,
		Format:              api.FormatCommonJS,
		Platform:            api.PlatformNeutral,
		MainFields:          []string{"module", "main"},
		Target:              Target,
		Supported:           supported,
		Sourcemap:           api.SourceMapExternal,
		SourcesContent:      api.SourcesContentExclude,
		// A repository's node_modules may be a link (pnpm, or the test
		// fixtures); keeping link paths keeps output paths repo-relative.
		PreserveSymlinks: true,
		Metafile:         true,
		LogLevel:         api.LogLevelSilent,
		Charset:          api.CharsetASCII,
		LegalComments:    api.LegalCommentsNone,
	}
}

func outputName(i int) string { return fmt.Sprintf("flowgate-bundle-%d", i) }

// Result is one entry's outcome: an Output, or error diagnostics located in
// the original sources.
type Result struct {
	Output      *Output
	Diagnostics []diag.Diagnostic
}

// Config says where bundled files may come from besides the repository.
// The zero value allows the repository only.
type Config struct {
	// PackageDirs are package folders (node_modules) the tool installed
	// itself, outside the repository: a repository's node_modules may be a
	// link into one of them. Files reached through any other link out of
	// the repository are refused (a committed `node_modules/x -> /` would
	// otherwise bundle host files).
	PackageDirs []string
	// OnParse, when set, is called with each file's path before esbuild
	// parses it (the builder process reports it, to locate a crash). It
	// may be called from several goroutines at once.
	OnParse func(path string)
	// caps, when set, replaces the repository-wide bounds, so the
	// package's tests cross them with megabytes instead of hundreds.
	caps *caps
}

// caps are bounds of a repository's builds as values; defaultCaps names
// the constant behind each.
type caps struct {
	bundle           int
	shared           int64
	totalOutput      int
	repositorySource int64
}

var defaultCaps = caps{MaxBundleSize, MaxSharedBytes, MaxTotalOutputBytes, MaxRepositorySourceBytes}

func (c Config) limits() caps {
	if c.caps != nil {
		return *c.caps
	}
	return defaultCaps
}

// Build bundles the workflow file entry (slash-separated, relative to the
// absolute repository root). On failure it returns nil and at least one
// error diagnostic located in the original source.
func Build(root, entry string) (*Output, []diag.Diagnostic) { return Config{}.Build(root, entry) }

// BuildAll is Config{}.BuildAll: the repository's own files only.
func BuildAll(root string, entries []string) []Result { return Config{}.BuildAll(root, entries) }

// Build is Build with c's package folders.
func (c Config) Build(root, entry string) (*Output, []diag.Diagnostic) {
	r := c.BuildAll(root, []string{entry})[0]
	return r.Output, r.Diagnostics
}

// BuildAll bundles several workflows of one repository. It runs esbuild
// once for all of them, so shared modules and packages are read and parsed
// once; when that run has errors it builds each entry on its own, so every
// entry gets its own result. Each bundle is the same as Build makes.
//
// Before esbuild runs, Preflight checks the files esbuild reads on its
// own; its errors fail every entry. esbuild sees the repository through a
// path whose parent folders nobody else controls (see guardedRoot), so no
// package.json or tsconfig.json above the repository applies.
func (c Config) BuildAll(root string, entries []string) []Result {
	results := make([]Result, len(entries))
	if len(entries) == 0 {
		return results
	}
	if ds := Preflight(root); diag.HasErrors(ds) {
		for i := range results {
			results[i].Diagnostics = ds
		}
		return results
	}
	broot, done := guardedRoot(root)
	defer done()
	return c.buildAll(broot, entries, newFence(broot, c.PackageDirs), new(int64))
}

// buildAll adds the bytes each esbuild run reads to spent, the
// repository's total.
//
// Each entry is bundled as an ES module and rewritten by hoist into a
// script that assigns module.exports; an entry hoist cannot rewrite, or a
// run with errors, is bundled as CommonJS instead (the format Flowgate
// used before, whose diagnostics users see).
func (c Config) buildAll(root string, entries []string, fence *fence, spent *int64) []Result {
	results := make([]Result, len(entries))
	if len(entries) == 0 {
		return results
	}
	var rest []int // the entries left to the CommonJS build
	res := c.run(root, entries, fence, spent, api.FormatESModule)
	switch {
	case len(res.Errors) > 0 && len(entries) > 1:
		return c.oneByOne(root, entries, fence, spent)
	case len(res.Errors) > 0:
		rest = []int{0}
	default:
		files, meta := outputFiles(res, root, fence)
		for i, e := range entries {
			name := outputName(i) + ".js"
			if code, smap, ok := hoist(fence.unprefix(files[name]), files[name+".map"], meta[name].exports); ok {
				results[i] = c.finish(e, code, smap, meta[name].inputs)
			} else {
				rest = append(rest, i)
			}
		}
	}
	if len(rest) > 0 {
		sub := make([]string, len(rest))
		for j, i := range rest {
			sub[j] = entries[i]
		}
		for j, r := range c.buildCommonJS(root, sub, fence, spent) {
			results[rest[j]] = r
		}
	}
	var total int
	for i, e := range entries {
		total = c.capOutput(&results[i], e, total)
	}
	return results
}

// run is one esbuild run over the entries in the given format.
func (c Config) run(root string, entries []string, fence *fence, spent *int64, format api.Format) api.BuildResult {
	opts := Options(root, entries)
	opts.Format = format
	opts.AbsWorkingDir = workDir(root)
	r := &reader{root: root, onLoad: c.OnParse, entries: len(entries), shareCap: c.limits().shared}
	opts.Plugins = []api.Plugin{confine(root, fence), guardSources(r)}
	res := api.Build(opts)
	*spent += r.total
	return res
}

// buildCommonJS bundles the entries as CommonJS modules.
func (c Config) buildCommonJS(root string, entries []string, fence *fence, spent *int64) []Result {
	res := c.run(root, entries, fence, spent, api.FormatCommonJS)
	if len(res.Errors) > 0 {
		if len(entries) > 1 {
			return c.oneByOne(root, entries, fence, spent)
		}
		var ds []diag.Diagnostic
		for _, m := range res.Errors {
			ds = append(ds, fromMessage(m, root, entries[0], fence))
		}
		diag.Sort(ds)
		return []Result{{Diagnostics: ds}}
	}
	files, meta := outputFiles(res, root, fence)
	results := make([]Result, len(entries))
	for i, e := range entries {
		name := outputName(i) + ".js"
		results[i] = c.finish(e, fence.unprefix(files[name]), files[name+".map"], meta[name].inputs)
	}
	return results
}

// oneByOne builds each entry on its own after a run over all of them had
// errors, so every entry gets its own result.
func (c Config) oneByOne(root string, entries []string, fence *fence, spent *int64) []Result {
	results := make([]Result, len(entries))
	var total int
	lim := c.limits()
	for i, e := range entries {
		switch {
		case *spent > lim.repositorySource:
			// Each entry reads the shared modules again.
			results[i] = Result{Diagnostics: []diag.Diagnostic{diag.New(RuleBuildError, e, 1, 1,
				"the workflows of this repository read more than %d MiB of source between them (at this one): workflows that share a large module should import only what they need",
				lim.repositorySource>>20)}}
		case total <= lim.totalOutput:
			results[i] = c.buildAll(root, []string{e}, fence, spent)[0]
		}
		total = c.capOutput(&results[i], e, total)
	}
	return results
}

// outputFiles maps each output file of the run, relative to the root, to
// its bytes, and each to what the metafile says of it.
func outputFiles(res api.BuildResult, root string, fence *fence) (map[string][]byte, map[string]outputMeta) {
	files := map[string][]byte{}
	for _, f := range res.OutputFiles {
		rel, _ := filepath.Rel(root, f.Path)
		files[filepath.ToSlash(rel)] = f.Contents
	}
	return files, outputs(res.Metafile, fence)
}

// capOutput adds r's bundle and source map to total, the bytes of the
// entries before it, and returns the new total. Once the total passes
// MaxTotalOutputBytes, r and every entry after it fail and keep nothing.
func (c Config) capOutput(r *Result, entry string, total int) int {
	limit := c.limits().totalOutput
	if o := r.Output; o != nil && total <= limit {
		total += len(o.Code) + len(o.SourceMap)
	}
	if total > limit {
		*r = Result{Diagnostics: []diag.Diagnostic{diag.New(RuleBuildError, entry, 1, 1,
			"the bundles of this repository's workflows add up to more than %d MiB (at this one): workflows that share a large module should import only what they need",
			limit>>20)}}
	}
	return total
}

// finish applies the per-bundle checks and computes the bundle's identity.
func (c Config) finish(entry string, code, sourceMap []byte, inputs []string) Result {
	if isEmpty(code) {
		return Result{Diagnostics: []diag.Diagnostic{diag.New(RuleMissingOutputBundle, entry, 1, 1,
			"the bundle of this workflow is empty: the file exports nothing that runs. Export workflowSettings and a default async function that handles the event")}}
	}
	if limit := c.limits().bundle; len(code) > limit {
		return Result{Diagnostics: []diag.Diagnostic{diag.New(RuleBuildError, entry, 1, 1,
			"bundle is %.1f MiB, over the %d MiB limit: import only the modules the workflow needs (see the largest inputs with esbuild --analyze)",
			float64(len(code))/(1<<20), limit>>20)}}
	}
	sum := sha256.Sum256(code)
	return Result{Output: &Output{Code: code, SourceMap: sourceMap, SHA256: hex.EncodeToString(sum[:]), Inputs: inputs}}
}

// isEmpty reports whether code has nothing but whitespace and comments,
// which is what esbuild emits for a file that exports nothing.
func isEmpty(code []byte) bool {
	for _, line := range bytes.Split(code, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && !bytes.HasPrefix(line, []byte("//")) && !bytes.Equal(line, []byte(`"use strict";`)) {
			return false
		}
	}
	return true
}

// outputMeta is what the metafile says of one output file.
type outputMeta struct {
	inputs  []string // repository-relative, sorted
	exports []string // the export names of an ES module output
}

// outputs maps each output file of the metafile to its sorted input files
// and its exports.
func outputs(metafile string, fence *fence) map[string]outputMeta {
	var m struct {
		Outputs map[string]struct {
			Inputs  map[string]json.RawMessage `json:"inputs"`
			Exports []string                   `json:"exports"`
		} `json:"outputs"`
	}
	out := map[string]outputMeta{}
	if err := json.Unmarshal([]byte(metafile), &m); err != nil {
		return out
	}
	for name, o := range m.Outputs {
		var ins []string
		for p := range o.Inputs {
			ins = append(ins, fence.rel(filepath.ToSlash(p)))
		}
		slices.Sort(ins)
		out[fence.rel(filepath.ToSlash(name))] = outputMeta{inputs: ins, exports: o.Exports}
	}
	return out
}

// fromMessage turns an esbuild error into a diagnostic located in the
// original file, falling back to the workflow file itself. An error
// located in a file outside the fence (esbuild reads package.json and
// tsconfig.json files while it resolves, and quotes their tokens) says
// only that: no text or path of a host file reaches the diagnostic.
func fromMessage(m api.Message, root, entry string, fence *fence) diag.Diagnostic {
	if m.Location != nil {
		loc := *m.Location
		loc.File = fence.rel(loc.File)
		m.Location = &loc
	}
	if _, ok := m.Detail.(outsideRepo); ok {
		d := diag.New(RuleLinkOutsideRepo, entry, 1, 1, "%s", m.Text)
		locate(&d, m.Location)
		return d
	}
	if loc := m.Location; loc != nil && loc.File != "" && fence.outside(root, absIn(root, loc.File)) {
		return diag.New(RuleLinkOutsideRepo, entry, 1, 1, "%s", readOutside)
	}
	d := diag.New(RuleBuildError, entry, 1, 1, "%s", m.Text)
	locate(&d, m.Location)
	if strings.Contains(m.Text, "Top-level await") {
		d.Message = "top-level await is not supported: a workflow's top-level code runs once when it is loaded and cannot wait. Move the await into the default export function"
	} else if hint := hint(m.Text); hint != "" {
		d.Message += ". " + hint
	}
	return d
}

// locate points d at loc when esbuild knows where the problem is.
func locate(d *diag.Diagnostic, loc *api.Location) {
	if loc != nil && loc.File != "" {
		d.File = filepath.ToSlash(loc.File)
		d.Line = loc.Line
		d.Column = column(loc.LineText, loc.Column)
	}
}

// column converts esbuild's 0-based byte column into a 1-based character column.
func column(lineText string, byteCol int) int {
	if byteCol > len(lineText) {
		return byteCol + 1
	}
	return utf8.RuneCountInString(lineText[:byteCol]) + 1
}

// hint adds what to do for esbuild errors users commonly meet.
func hint(text string) string {
	switch {
	case strings.HasPrefix(text, "No matching export"):
		return "Check the name against the version of the package installed in the repository's node_modules"
	case strings.HasPrefix(text, "Expected") || strings.HasPrefix(text, "Unexpected"):
		return "Fix the syntax error"
	}
	return ""
}

// fmtPkg is shared by resolve errors.
func fmtPkg(p string) string { return fmt.Sprintf("%q", p) }
