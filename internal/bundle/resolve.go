package bundle

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// inner marks a resolution that confine asked esbuild for itself.
type inner struct{}

// confine is the esbuild plugin that keeps every import inside the
// repository: esbuild would otherwise walk up past the repository root to
// any node_modules above it, or follow a relative path or a link out of the
// repository. A package found only outside is reported as not installed.
//
// node_modules may itself be a link to elsewhere (pnpm, or the packages
// Flowgate installs at sync time), so a path under the repository's
// node_modules is checked by its name; any other file must also really be
// inside the repository once links are followed.
func confine(root string) api.Plugin {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		realRoot = root
	}
	return api.Plugin{
		Name: "flowgate-confine",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
				if _, ok := args.PluginData.(inner); ok {
					return api.OnResolveResult{}, nil
				}
				res := b.Resolve(args.Path, api.ResolveOptions{
					Importer: args.Importer, Namespace: args.Namespace, ResolveDir: args.ResolveDir,
					Kind: args.Kind, PluginData: inner{}, With: args.With,
				})
				if len(res.Errors) > 0 {
					return api.OnResolveResult{Errors: []api.Message{{Text: notFound(args.Path)}}}, nil
				}
				if res.External || res.Namespace != "file" {
					return passOn(res), nil
				}
				if !inside(root, realRoot, res.Path) {
					text := fmt.Sprintf("cannot import %s: it resolves to a file outside the repository, and workflows may only use files inside it", fmtPkg(args.Path))
					if isBare(args.Path) {
						text = notFound(args.Path)
					}
					return api.OnResolveResult{Errors: []api.Message{{Text: text}}}, nil
				}
				return passOn(res), nil
			})
		},
	}
}

// passOn returns esbuild's own resolution unchanged.
func passOn(res api.ResolveResult) api.OnResolveResult {
	side := api.SideEffectsTrue
	if !res.SideEffects {
		side = api.SideEffectsFalse
	}
	return api.OnResolveResult{Path: res.Path, External: res.External, Namespace: res.Namespace,
		SideEffects: side, Suffix: res.Suffix, PluginData: res.PluginData}
}

// inside reports whether the resolved file p is inside the repository.
func inside(root, realRoot, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil || !local(rel) {
		return false
	}
	if slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "node_modules") {
		return true
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	rel, err = filepath.Rel(realRoot, real)
	return err == nil && local(rel)
}

// local reports whether a relative path stays below its base.
func local(rel string) bool {
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// isBare reports whether an import path names a package rather than a file.
func isBare(p string) bool {
	return !strings.HasPrefix(p, ".") && !strings.HasPrefix(p, "/") && !filepath.IsAbs(p)
}

// packageName returns the package an import path names: "@a/b/c" → "@a/b".
func packageName(p string) string {
	parts := strings.Split(p, "/")
	if strings.HasPrefix(p, "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// nodeBuiltins are Node.js modules people import by habit; workflows do not
// run on Node.js.
var nodeBuiltins = []string{
	"assert", "buffer", "child_process", "crypto", "dns", "events", "fs", "http", "http2", "https",
	"net", "os", "path", "process", "querystring", "readline", "stream", "string_decoder", "timers",
	"tls", "url", "util", "vm", "worker_threads", "zlib",
}

// notFound says why an import did not resolve and what to do.
func notFound(p string) string {
	if !isBare(p) {
		return fmt.Sprintf("cannot resolve %s: no such file in the repository (tried the extensions .ts, .tsx, .js, .jsx and .json, and index files). Check the path and its case", fmtPkg(p))
	}
	name := packageName(p)
	if builtin := strings.TrimPrefix(name, "node:"); strings.HasPrefix(name, "node:") || slices.Contains(nodeBuiltins, builtin) {
		return fmt.Sprintf("cannot import %s: it is a Node.js built-in module and workflows do not run on Node.js. Use the kinde.* bindings instead (kinde.fetch for HTTP, kinde.env for configuration)", fmtPkg(p))
	}
	return fmt.Sprintf("cannot resolve package %s: it is not installed in the repository's node_modules. Run `npm install %s` in the repository root and commit package.json and package-lock.json (Flowgate installs the locked packages when it syncs)", fmtPkg(name), name)
}
