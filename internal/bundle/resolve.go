package bundle

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// inner marks a resolution that confine asked esbuild for itself.
type inner struct{}

// outsideRepo marks an esbuild error as a link-outside-repo diagnostic.
type outsideRepo struct{}

// confine is the esbuild plugin that keeps every import inside the
// repository: esbuild would otherwise walk up past the repository root to
// any node_modules above it, or follow a relative path or a symbolic link
// (a committed `node_modules/x -> /` included) out of the repository.
//
// Every resolved file is checked by its real path, links followed in every
// component, package folders included: it must lie inside the repository
// or inside one of the package folders the tool installed itself
// (Config.PackageDirs). A package found only above the root is reported as
// not installed; anything else outside is a link-outside-repo error.
func confine(root string, fence *fence) api.Plugin {
	return api.Plugin{
		Name: "flowgate-confine",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
				if _, ok := args.PluginData.(inner); ok {
					return api.OnResolveResult{}, nil
				}
				if !isBare(args.Path) && args.Kind != api.ResolveEntryPoint && args.Namespace == "file" &&
					!lexicallyInside(root, absIn(args.ResolveDir, args.Path)) {
					return api.OnResolveResult{Errors: []api.Message{{Text: outsideText(args.Path), Detail: outsideRepo{}}}}, nil
				}
				res := b.Resolve(args.Path, api.ResolveOptions{
					Importer: args.Importer, Namespace: args.Namespace, ResolveDir: args.ResolveDir,
					Kind: args.Kind, PluginData: inner{}, With: args.With,
				})
				if len(res.Errors) > 0 {
					for _, m := range res.Errors {
						if m.Location != nil && m.Location.File != "" && fence.outside(root, absIn(root, fence.rel(m.Location.File))) {
							// e.g. a tsconfig.json that extends a host file: its text stays out of the message.
							return api.OnResolveResult{Errors: []api.Message{{Text: readOutside, Detail: outsideRepo{}}}}, nil
						}
					}
					shown := args.Path
					if rel, err := filepath.Rel(root, shown); err == nil && filepath.IsAbs(shown) && local(rel) {
						shown = filepath.ToSlash(rel) // an entry point: never show the host's path
					}
					return api.OnResolveResult{Errors: []api.Message{{Text: notFound(shown)}}}, nil
				}
				if res.External {
					return passOn(res), nil
				}
				if res.Namespace != "file" {
					// A data: URL module is parsed like a file but never
					// passes the source guard (sizes, nesting, chains).
					return api.OnResolveResult{Errors: []api.Message{{Text: notAFile(args.Path)}}}, nil
				}
				if fence.allows(res.Path) {
					return passOn(res), nil
				}
				if isBare(args.Path) && !lexicallyInside(root, res.Path) {
					// esbuild walked up past the root to a node_modules above it.
					return api.OnResolveResult{Errors: []api.Message{{Text: notFound(args.Path)}}}, nil
				}
				return api.OnResolveResult{Errors: []api.Message{{Text: outsideText(args.Path), Detail: outsideRepo{}}}}, nil
			})
		},
	}
}

func notAFile(p string) string {
	if len(p) > 40 {
		p = p[:40] + "…"
	}
	return fmt.Sprintf("cannot import %s: workflows may only import files of the repository and installed packages, not data: URLs. Put the module in a file and import that", fmtPkg(p))
}

func outsideText(p string) string {
	return fmt.Sprintf("cannot import %s: it resolves to a file outside the repository "+
		"(through a symbolic link or a relative path), and workflows may only use files inside it. "+
		"Replace the link with the files themselves, or install the package with npm", fmtPkg(p))
}

// readOutside is the message for esbuild reading a file outside the fence
// while it resolves (package.json, tsconfig.json): no text of it is shown.
const readOutside = "the build read a file outside the repository (through a symbolic link or a relative path, " +
	"for example in a package.json or tsconfig.json), and workflows may only use files inside it"

// absIn is p made absolute against root.
func absIn(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// fence is the set of folders resolved files may lie in, by real path.
type fence struct {
	dirs []string // real paths: the repository root, then package folders
	// prefix is what esbuild puts before a repository-relative path when
	// the build root is a guarded path (see guardedRoot): esbuild makes
	// paths relative to its working folder with links resolved.
	prefix string
}

// unprefix removes the prefix from the file-name comments esbuild writes
// in a bundle ("// <path>" lines), so the bundle does not depend on the
// descriptor number the build root had.
func (f *fence) unprefix(code []byte) []byte {
	if f.prefix == "" || code == nil {
		return code
	}
	code = bytes.ReplaceAll(code, []byte("\n// "+f.prefix), []byte("\n// "))
	if first := []byte("// " + f.prefix); bytes.HasPrefix(code, first) { // a bundle with no helpers starts with one
		code = append([]byte("// "), code[len(first):]...)
	}
	return code
}

// rel turns a path as esbuild reports it into one relative to the root.
func (f *fence) rel(p string) string {
	if f.prefix != "" {
		return strings.TrimPrefix(p, f.prefix)
	}
	return p
}

func newFence(root string, packageDirs []string) *fence {
	f := &fence{}
	for _, d := range append([]string{root}, packageDirs...) {
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue // a folder that does not exist admits nothing
		}
		if abs, err := filepath.Abs(real); err == nil {
			f.dirs = append(f.dirs, abs)
		}
	}
	if wd := workDir(root); wd != root {
		if rel, err := filepath.Rel(wd, root); err == nil {
			f.prefix = filepath.ToSlash(rel) + "/"
		}
	}
	return f
}

// allows reports whether the file p, once every link in its path is
// followed, lies inside one of the fence's folders. A path that cannot be
// resolved (a dangling link, a loop) is refused.
func (f *fence) allows(p string) bool {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	for _, d := range f.dirs {
		if rel, err := filepath.Rel(d, real); err == nil && local(rel) {
			return true
		}
	}
	return false
}

// outside reports whether an existing file p lies outside the fence, or a
// missing one outside the root by its path alone.
func (f *fence) outside(root, p string) bool {
	if _, err := os.Lstat(p); err != nil {
		return !lexicallyInside(root, p)
	}
	return !f.allows(p)
}

// lexicallyInside reports whether p is under root before links are followed.
func lexicallyInside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && local(rel)
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
