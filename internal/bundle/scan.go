package bundle

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/flowgate/flowgate/internal/diag"
)

// Import is one package import found by Imports.
type Import struct {
	Spec string // the import path as written: "@scope/name/sub"
	File string // the importing file, repository-relative, slash-separated
}

// Imports lists the package imports of the entries and of the repository
// files they import, by file then in import order, before any package is
// installed: esbuild decides what is an import (comments, strings and
// type-only imports are not), every package import is kept external, so
// no package file is read. The same walls as BuildAll apply (Preflight,
// the source guard, the fence, the guarded root). A build error in one
// entry does not hide the others' imports; the diagnostics are those of
// Preflight only (BuildAll reports the rest).
func (c Config) Imports(root string, entries []string) ([]Import, []diag.Diagnostic) {
	if len(entries) == 0 {
		return nil, nil
	}
	if ds := Preflight(root); diag.HasErrors(ds) {
		return nil, ds
	}
	broot, done := guardedRoot(root)
	defer done()
	return c.imports(broot, entries, newFence(broot, nil)), nil
}

func (c Config) imports(root string, entries []string, fence *fence) []Import {
	opts := api.BuildOptions{
		AbsWorkingDir:    workDir(root),
		Bundle:           true,
		Write:            false,
		Outdir:           filepath.Join(root, "flowgate-npm-scan"),
		Format:           api.FormatCommonJS,
		Platform:         api.PlatformNeutral,
		Metafile:         true,
		PreserveSymlinks: true,
		LogLevel:         api.LogLevelSilent,
		Plugins: []api.Plugin{{Name: "flowgate-npm-scan", Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `^[^./]`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
				if filepath.IsAbs(args.Path) {
					return api.OnResolveResult{}, nil
				}
				return api.OnResolveResult{Path: args.Path, External: true}, nil
			})
		}}, confine(root, fence), guardSources(&reader{root: root, onLoad: c.OnParse, entries: len(entries), shareCap: c.limits().shared})},
	}
	for _, e := range entries {
		opts.EntryPoints = append(opts.EntryPoints, filepath.Join(root, filepath.FromSlash(e)))
	}
	res := api.Build(opts)
	if len(res.Errors) > 0 && len(entries) > 1 {
		var all []Import
		for _, e := range entries {
			all = append(all, c.imports(root, []string{e}, fence)...)
		}
		return all
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
		return nil
	}
	var out []Import
	for _, file := range slices.Sorted(func(yield func(string) bool) {
		for k := range meta.Inputs {
			if !yield(k) {
				return
			}
		}
	}) {
		rel := fence.rel(filepath.ToSlash(file))
		if strings.Contains("/"+rel, "/node_modules/") {
			continue
		}
		for _, imp := range meta.Inputs[file].Imports {
			if imp.External {
				out = append(out, Import{Spec: imp.Path, File: rel})
			}
		}
	}
	return out
}
