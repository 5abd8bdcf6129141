// Package npm installs the npm packages a workflow repository imports, the
// way a sync needs them: repositories arrive without node_modules (and a
// committed node_modules is never trusted), so the packages are fetched
// from a registry, checked against their integrity hash, cached by that
// hash, and unpacked safely into a folder of their own that the bundler
// resolves from. Only packages on an allow-list are installed; importing
// any other is a located build-error.
//
// Versions: when kinde.json enables the npm integration
// ({"integrations": {"npm": {"enabled": true}}}), the version locked in
// package-lock.json, else the highest one package.json's range allows;
// otherwise (as on Kinde) the registry's latest.
package npm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
)

// RuleBuildError is the rule of every diagnostic Install returns (the
// bundle's rule id: an import that cannot be satisfied fails the build).
const RuleBuildError = diag.RuleBuildError

// Defaults of Options.
const (
	DefaultRegistry         = "https://registry.npmjs.org"
	DefaultMaxTarballBytes  = 32 << 20
	DefaultMaxUnpackedBytes = 128 << 20
	DefaultMaxFiles         = 10000
	DefaultMaxPackumentSize = 32 << 20
)

// DefaultAllow is the allow-list when Options.Allow is nil.
var DefaultAllow = []string{"@kinde/infrastructure"}

// Options configure Install. The zero value uses the public registry, the
// default allow-list and a cache under the user's cache directory.
type Options struct {
	// Registry is the registry's base URL (FLOWGATE_NPM_REGISTRY).
	Registry string
	// Allow lists the package names that may be installed, imported
	// directly or as a dependency of an allowed package.
	Allow []string
	// CacheDir keeps verified tarballs, named by their integrity hash.
	CacheDir string
	// NPM is kinde.json's integrations.npm.enabled: use the versions of
	// package-lock.json / package.json instead of the latest.
	NPM bool
	// Entries are the workflow files (repository-relative, slash-
	// separated) whose imports are installed, with the files they import.
	Entries []string
	// Client fetches from the registry (default: 30s timeout).
	Client *http.Client
	// ScanImports lists the packages the entries import; nil is
	// ScanImports in this process. The service passes a builder's, so the
	// scan, which parses repository content, runs in a builder process.
	ScanImports ScanFunc
	// Limits; zero takes the default.
	MaxTarballBytes  int64
	MaxUnpackedBytes int64
	MaxFiles         int
}

func (o *Options) defaults() error {
	if o.Registry == "" {
		o.Registry = DefaultRegistry
	}
	o.Registry = strings.TrimRight(o.Registry, "/")
	if o.Allow == nil {
		o.Allow = DefaultAllow
	}
	if o.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("npm: no cache directory: %w", err)
		}
		o.CacheDir = filepath.Join(dir, "flowgate", "npm")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.MaxTarballBytes <= 0 {
		o.MaxTarballBytes = DefaultMaxTarballBytes
	}
	if o.MaxUnpackedBytes <= 0 {
		o.MaxUnpackedBytes = DefaultMaxUnpackedBytes
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.ScanImports == nil {
		o.ScanImports = ScanImports
	}
	return nil
}

// Installed is one package Install put in place.
type Installed struct {
	Name, Version, Integrity string
}

// Install finds the packages the entries of the repository at repoDir
// import and installs each, with its dependencies, as destDir/<name>.
// destDir is a node_modules folder of its own, outside the repository;
// the caller makes the repository's node_modules a link to it (see Link)
// and gives it to the bundler as a package folder (bundle.Config.
// PackageDirs, project.Options.PackageDirs).
//
// An import the allow-list refuses, a version that does not exist, or an
// unusable package.json/package-lock.json is a located build-error
// diagnostic. The error is for everything that is not the repository's
// fault and may pass on retry: the registry is down, a tarball does not
// match its integrity hash, a tarball breaks the extraction rules.
func Install(ctx context.Context, repoDir, destDir string, opts Options) ([]Installed, []diag.Diagnostic, error) {
	if err := opts.defaults(); err != nil {
		return nil, nil, err
	}
	if len(opts.Entries) == 0 {
		return nil, nil, nil
	}
	imports, ds, err := opts.ScanImports(ctx, repoDir, opts.Entries)
	if err != nil {
		return nil, nil, fmt.Errorf("npm: scan imports: %w", err)
	}
	if len(imports) == 0 {
		return nil, ds, nil
	}
	var lock *lockfile
	if opts.NPM {
		var more []diag.Diagnostic
		lock, more = readLock(repoDir)
		ds = append(ds, more...)
	}
	in := &installer{opts: opts, dest: destDir, lock: lock, done: map[string]Installed{}, reg: &registry{opts: opts}}
	for _, imp := range imports {
		if !slices.Contains(opts.Allow, imp.Package) {
			ds = append(ds, diag.New(RuleBuildError, imp.File, imp.Line, imp.Col,
				"cannot import %q: Flowgate installs only the packages on its allow-list (%s). Remove the import, or ask the operator to allow the package",
				imp.Package, strings.Join(opts.Allow, ", ")))
			continue
		}
		d, err := in.install(ctx, imp.Package, in.want(imp.Package), imp, nil)
		if err != nil {
			return nil, nil, err
		}
		ds = append(ds, d...)
	}
	var out []Installed
	for _, name := range slices.Sorted(mapsKeys(in.done)) {
		out = append(out, in.done[name])
	}
	diag.Sort(ds)
	return out, ds, nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Link makes repoDir/node_modules a link to destDir, first removing a
// committed node_modules: it is never trusted. repoDir must be a checkout
// the caller owns (a sync's snapshot), never a user's working copy.
func Link(repoDir, destDir string) error {
	nm := filepath.Join(repoDir, "node_modules")
	if _, err := os.Lstat(nm); err == nil {
		if err := os.RemoveAll(nm); err != nil {
			return fmt.Errorf("npm: remove committed node_modules: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("npm: %w", err)
	}
	abs, err := filepath.Abs(destDir)
	if err != nil {
		return fmt.Errorf("npm: %w", err)
	}
	if err := os.Symlink(abs, nm); err != nil {
		return fmt.Errorf("npm: link node_modules: %w", err)
	}
	return nil
}

// installer installs one repository's packages.
type installer struct {
	opts Options
	dest string
	lock *lockfile
	reg  *registry
	done map[string]Installed
}

// want is the version or range to install for a package imported by the
// repository: locked, ranged in package.json, or the latest.
func (in *installer) want(name string) string {
	if in.lock != nil {
		if v := in.lock.locked[name].Version; v != "" {
			return v
		}
		if r := in.lock.ranges[name]; r != "" {
			return r
		}
	}
	return "latest"
}

// install installs name at a version matching spec, then its dependencies.
// imp is where the repository imports it (for diagnostics); chain names
// the packages that led to it.
func (in *installer) install(ctx context.Context, name, spec string, imp ImportRef, chain []string) ([]diag.Diagnostic, error) {
	if _, ok := in.done[name]; ok {
		return nil, nil
	}
	if len(chain) > 50 {
		return nil, fmt.Errorf("npm: dependency chain too deep at %s", name)
	}
	doc, err := in.reg.packument(ctx, name)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return []diag.Diagnostic{imp.errorf("package %q does not exist in the registry%s", name, via(chain))}, nil
	}
	version, ok := doc.resolve(spec)
	if !ok {
		return []diag.Diagnostic{imp.errorf("no version of %q matches %q%s (versions in the registry: %s)", name, spec, via(chain), doc.sample())}, nil
	}
	v := doc.Versions[version]
	integrity := v.Dist.Integrity
	if in.lock != nil {
		if l := in.lock.locked[name]; l.Version == version && l.Integrity != "" {
			if integrity != "" && l.Integrity != integrity {
				return nil, fmt.Errorf("npm: %s@%s: the registry's integrity %s differs from package-lock.json's %s: refusing it", name, version, integrity, l.Integrity)
			}
			integrity = l.Integrity
		}
	}
	tgz, err := in.reg.tarball(ctx, name, version, v.Dist.Tarball, integrity)
	if err != nil {
		return nil, err
	}
	target := filepath.Join(in.dest, filepath.FromSlash(name))
	if err := extract(tgz, target, in.opts); err != nil {
		return nil, fmt.Errorf("npm: unpack %s@%s: %w", name, version, err)
	}
	in.done[name] = Installed{Name: name, Version: version, Integrity: integrity}
	var ds []diag.Diagnostic
	chain = append(slices.Clip(chain), name+"@"+version)
	for _, dep := range slices.Sorted(mapsKeys(v.Dependencies)) {
		if !slices.Contains(in.opts.Allow, dep) {
			ds = append(ds, imp.errorf("cannot install %q: it depends on %q%s, which is not on Flowgate's allow-list (%s)",
				name, dep, via(chain[:len(chain)-1]), strings.Join(in.opts.Allow, ", ")))
			continue
		}
		spec := v.Dependencies[dep]
		if in.lock != nil {
			if l := in.lock.locked[dep]; l.Version != "" {
				spec = l.Version
			}
		}
		more, err := in.install(ctx, dep, spec, imp, chain)
		if err != nil {
			return nil, err
		}
		ds = append(ds, more...)
	}
	return ds, nil
}

func via(chain []string) string {
	if len(chain) == 0 {
		return ""
	}
	return " (needed by " + strings.Join(chain, " → ") + ")"
}
