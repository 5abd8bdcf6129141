package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
)

const infra = "@kinde/infrastructure"

// realTarball is `npm pack` of the installed @kinde/infrastructure 0.9.0.
func realTarball(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "kinde-infrastructure-0.9.0.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// entry is one member of a tarball the tests build.
type entry struct {
	name, body, link string
	typ              byte
	size             int64 // header size when it differs from the body
}

func makeTgz(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Linkname: e.link, Size: int64(len(e.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if e.size > 0 {
			h.Size = e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg || e.size > 0 {
			if e.size > 0 {
				// a huge, highly compressible body
				chunk := bytes.Repeat([]byte{'a'}, 1<<20)
				for left := e.size; left > 0; left -= int64(len(chunk)) {
					if _, err := tw.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
						t.Fatal(err)
					}
				}
			} else if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pkgTgz is a minimal valid package at version v.
func pkgTgz(t testing.TB, name, v string) []byte {
	return makeTgz(t, []entry{
		{name: "package/package.json", body: fmt.Sprintf(`{"name": %q, "version": %q, "main": "index.js"}`, name, v)},
		{name: "package/index.js", body: fmt.Sprintf("exports.version = %q; exports.WorkflowTrigger = {UserTokenGeneration: \"user:tokens_generation\"};\n", v)},
	})
}

func sri(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// fakeRegistry speaks the npm registry protocol: GET /<name> is the
// packument, GET /tarballs/<name>/<version>.tgz the tarball.
type fakeRegistry struct {
	*httptest.Server
	pkgs      map[string]map[string][]byte // name → version → tarball
	deps      map[string]map[string]string // "name@version" → dependencies
	integrity map[string]string            // "name@version" → advertised integrity (override)
	latest    map[string]string
	tarballs  atomic.Int32
	requests  atomic.Int32
}

func newRegistry(t *testing.T) *fakeRegistry {
	r := &fakeRegistry{pkgs: map[string]map[string][]byte{}, deps: map[string]map[string]string{},
		integrity: map[string]string{}, latest: map[string]string{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *fakeRegistry) add(name, version string, tgz []byte) {
	if r.pkgs[name] == nil {
		r.pkgs[name] = map[string][]byte{}
	}
	r.pkgs[name][version] = tgz
	r.latest[name] = version
}

func (r *fakeRegistry) serve(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	if rest, ok := strings.CutPrefix(req.URL.Path, "/tarballs/"); ok {
		i := strings.LastIndex(rest, "/")
		name, version := rest[:i], strings.TrimSuffix(rest[i+1:], ".tgz")
		tgz, ok := r.pkgs[name][version]
		if !ok {
			http.NotFound(w, req)
			return
		}
		r.tarballs.Add(1)
		w.Write(tgz)
		return
	}
	name := strings.TrimPrefix(req.URL.Path, "/")
	versions, ok := r.pkgs[name]
	if !ok {
		http.Error(w, `{"error":"Not found"}`, http.StatusNotFound)
		return
	}
	doc := map[string]any{"name": name, "dist-tags": map[string]string{"latest": r.latest[name]}}
	vs := map[string]any{}
	for v, tgz := range versions {
		integrity := sri(tgz)
		if o, ok := r.integrity[name+"@"+v]; ok {
			integrity = o
		}
		vs[v] = map[string]any{
			"name": name, "version": v, "dependencies": r.deps[name+"@"+v],
			"dist": map[string]string{"tarball": r.URL + "/tarballs/" + name + "/" + v + ".tgz", "integrity": integrity},
		}
	}
	doc["versions"] = vs
	w.Header().Set("Content-Type", "application/vnd.npm.install-v1+json")
	json.NewEncoder(w).Encode(doc)
}

// repo writes a repository whose one workflow imports the given packages.
func repo(t *testing.T, npmEnabled bool, files map[string]string, imports ...string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var src strings.Builder
	for i, imp := range imports {
		fmt.Fprintf(&src, "import * as p%d from %q;\n", i, imp)
	}
	src.WriteString("export const workflowSettings = {id: \"w\", trigger: \"user:tokens_generation\"};\n")
	src.WriteString("export default async function () { console.log(")
	for i := range imports {
		fmt.Fprintf(&src, "p%d, ", i)
	}
	src.WriteString("1); }\n")
	kj := `{"version": "2024-12-09"}`
	if npmEnabled {
		kj = `{"version": "2024-12-09", "integrations": {"npm": {"enabled": true}}}`
	}
	all := map[string]string{"kinde.json": kj, "kindeSrc/environment/workflows/wWorkflow.ts": src.String()}
	for k, v := range files {
		all[k] = v
	}
	for name, body := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, []string{"kindeSrc/environment/workflows/wWorkflow.ts"}
}

func opts(t *testing.T, reg *fakeRegistry, entries []string) Options {
	return Options{Registry: reg.URL, CacheDir: t.TempDir(), Entries: entries, Client: &http.Client{Timeout: 10 * time.Second}}
}

func brief(ds []diag.Diagnostic) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s %s:%d:%d", d.Rule, d.File, d.Line, d.Column))
	}
	return out
}

// TestInstallRealPackage installs the real @kinde/infrastructure tarball
// from the local registry, then builds and checks the repository with the
// installed folder as its only package source.
func TestInstallRealPackage(t *testing.T) {
	reg := newRegistry(t)
	reg.add(infra, "0.9.0", realTarball(t))
	dir, entries := repo(t, false, nil, infra)
	// A committed node_modules is never trusted: Link replaces it.
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "@kinde", "infrastructure"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "node_modules", "@kinde", "infrastructure", "index.js"), []byte("throw 1"), 0o644)
	dest := filepath.Join(t.TempDir(), "node_modules")
	o := opts(t, reg, entries)
	got, ds, err := Install(context.Background(), dir, dest, o)
	if err != nil || len(ds) != 0 {
		t.Fatalf("Install: %v %v", err, ds)
	}
	if len(got) != 1 || got[0].Version != "0.9.0" || got[0].Integrity != sri(realTarball(t)) {
		t.Fatalf("installed %+v", got)
	}
	if _, err := os.Stat(filepath.Join(dest, infra, "dist", "infrastructure.js")); err != nil {
		t.Fatal(err)
	}
	if err := Link(dir, dest); err != nil {
		t.Fatal(err)
	}
	r, err := project.Check(context.Background(), dir, project.Options{PackageDirs: []string{dest}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || len(r.Workflows) != 1 || r.Workflows[0].Bundle == nil {
		t.Fatalf("check: %v", r.Diagnostics)
	}
	// The tarball is cached by its integrity: a second install fetches the
	// packument only.
	before := reg.tarballs.Load()
	if _, _, err := Install(context.Background(), dir, filepath.Join(t.TempDir(), "nm"), o); err != nil {
		t.Fatal(err)
	}
	if reg.tarballs.Load() != before {
		t.Errorf("tarball fetched again despite the cache")
	}
}

// TestVersions: the lockfile and package.json are honoured only when
// kinde.json enables the npm integration; otherwise the latest.
func TestVersions(t *testing.T) {
	reg := newRegistry(t)
	for _, v := range []string{"0.8.0", "0.8.3", "0.9.0"} {
		reg.add(infra, v, pkgTgz(t, infra, v))
	}
	lock := func(v string) string {
		return fmt.Sprintf(`{"lockfileVersion": 3, "packages": {"": {}, "node_modules/@kinde/infrastructure": {"version": %q, "integrity": %q}}}`,
			v, sri(pkgTgz(t, infra, v)))
	}
	cases := []struct {
		name  string
		npm   bool
		files map[string]string
		want  string
	}{
		{"latest without integration", false, map[string]string{"package-lock.json": lock("0.8.0")}, "0.9.0"},
		{"lockfile", true, map[string]string{"package-lock.json": lock("0.8.0"), "package.json": `{"dependencies": {"@kinde/infrastructure": "^0.9.0"}}`}, "0.8.0"},
		{"package.json range", true, map[string]string{"package.json": `{"dependencies": {"@kinde/infrastructure": "~0.8.0"}}`}, "0.8.3"},
		{"package.json exact", true, map[string]string{"package.json": `{"dependencies": {"@kinde/infrastructure": "0.8.0"}}`}, "0.8.0"},
		{"integration without files", true, nil, "0.9.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, entries := repo(t, c.npm, c.files, infra)
			got, ds, err := Install(context.Background(), dir, filepath.Join(t.TempDir(), "nm"), opts(t, reg, entries).withNPM(c.npm))
			if err != nil || len(ds) != 0 {
				t.Fatalf("%v %v", err, ds)
			}
			if len(got) != 1 || got[0].Version != c.want {
				t.Fatalf("installed %+v, want %s", got, c.want)
			}
		})
	}
}

func (o Options) withNPM(on bool) Options { o.NPM = on; return o }

// TestRefused: what must never be installed, and how each is reported.
func TestRefused(t *testing.T) {
	good := pkgTgz(t, infra, "1.0.0")
	cases := []struct {
		name  string
		setup func(r *fakeRegistry)
		imp   []string
		lock  string
		err   string   // substring of the error, or "" for none
		diags []string // diagnostics (rule file:line:col) when no error
		words string
	}{
		{name: "not on the allow-list", imp: []string{"lodash-es", infra + "/sub"},
			setup: func(r *fakeRegistry) { r.add(infra, "1.0.0", good) },
			diags: []string{"build-error kindeSrc/environment/workflows/wWorkflow.ts:1:21"}, words: `cannot import "lodash-es": Flowgate installs only the packages on its allow-list (@kinde/infrastructure)`},
		{name: "integrity mismatch", imp: []string{infra},
			setup: func(r *fakeRegistry) {
				r.add(infra, "1.0.0", good)
				r.integrity[infra+"@1.0.0"] = sri([]byte("something else"))
			}, err: "does not match its integrity"},
		{name: "lockfile integrity differs", imp: []string{infra},
			setup: func(r *fakeRegistry) { r.add(infra, "1.0.0", good) },
			lock:  fmt.Sprintf(`{"packages": {"node_modules/@kinde/infrastructure": {"version": "1.0.0", "integrity": %q}}}`, sri([]byte("x"))),
			err:   "differs from package-lock.json"},
		{name: "sha1 only", imp: []string{infra},
			setup: func(r *fakeRegistry) { r.add(infra, "1.0.0", good); r.integrity[infra+"@1.0.0"] = "sha1-AAAA" },
			err:   "has no sha512 digest"},
		{name: "dot-dot path", imp: []string{infra},
			setup: func(r *fakeRegistry) {
				r.add(infra, "1.0.0", makeTgz(t, []entry{{name: "package/index.js", body: "1"}, {name: "package/../../escape.js", body: "x"}}))
			}, err: "leaves the archive's directory"},
		{name: "absolute path", imp: []string{infra},
			setup: func(r *fakeRegistry) { r.add(infra, "1.0.0", makeTgz(t, []entry{{name: "/etc/evil", body: "x"}})) },
			err:   "absolute path"},
		{name: "device file", imp: []string{infra},
			setup: func(r *fakeRegistry) {
				r.add(infra, "1.0.0", makeTgz(t, []entry{{name: "package/index.js", body: "1"}, {name: "package/dev", typ: tar.TypeChar}}))
			}, err: "package/dev is a device or FIFO"},
		{name: "gzip bomb in a left-out entry", imp: []string{infra},
			setup: func(r *fakeRegistry) {
				r.add(infra, "1.0.0", makeTgz(t, []entry{{name: "package/odd", typ: 'Z', size: 3 << 20}}))
			},
			err: "decompresses to more than"},
		{name: "huge unpacked", imp: []string{infra},
			setup: func(r *fakeRegistry) {
				r.add(infra, "1.0.0", makeTgz(t, []entry{{name: "package/big.js", size: 5 << 20}}))
			},
			err: "archive over its limits"},
		{name: "too many files", imp: []string{infra},
			setup: func(r *fakeRegistry) {
				var es []entry
				for i := range 60 {
					es = append(es, entry{name: fmt.Sprintf("package/f%d.js", i), body: "1"})
				}
				r.add(infra, "1.0.0", makeTgz(t, es))
			}, err: "more than 50 files"},
		{name: "not gzip", imp: []string{infra},
			setup: func(r *fakeRegistry) { r.add(infra, "1.0.0", []byte("plain text")) }, err: "read archive"},
		{name: "dependency not allowed", imp: []string{infra},
			setup: func(r *fakeRegistry) {
				r.add(infra, "1.0.0", good)
				r.deps[infra+"@1.0.0"] = map[string]string{"left-pad": "^1.0.0"}
			}, diags: []string{"build-error kindeSrc/environment/workflows/wWorkflow.ts:1:21"}, words: `it depends on "left-pad"`},
		{name: "package missing from registry", imp: []string{infra}, setup: func(*fakeRegistry) {},
			diags: []string{"build-error kindeSrc/environment/workflows/wWorkflow.ts:1:21"}, words: "does not exist in the registry"},
		{name: "locked version missing", imp: []string{infra},
			setup: func(r *fakeRegistry) { r.add(infra, "1.0.0", good) },
			lock:  `{"packages": {"node_modules/@kinde/infrastructure": {"version": "0.1.0"}}}`,
			diags: []string{"build-error kindeSrc/environment/workflows/wWorkflow.ts:1:21"}, words: `no version of "@kinde/infrastructure" matches "0.1.0"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := newRegistry(t)
			c.setup(reg)
			files := map[string]string{}
			if c.lock != "" {
				files["package-lock.json"] = c.lock
			}
			dir, entries := repo(t, c.lock != "", files, c.imp...)
			o := opts(t, reg, entries).withNPM(c.lock != "")
			o.MaxUnpackedBytes = 1 << 20
			o.MaxFiles = 50
			dest := filepath.Join(t.TempDir(), "nm")
			_, ds, err := Install(context.Background(), dir, dest, o)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q (diags %v)", err, c.err, ds)
				}
				if _, serr := os.Stat(filepath.Join(dest, infra)); serr == nil {
					t.Errorf("a refused package was left in %s", dest)
				}
				if cached, _ := os.ReadDir(o.CacheDir); len(cached) != 0 && strings.Contains(c.err, "integrity") {
					t.Errorf("an unverified tarball was cached: %v", cached)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(ds); !slices.Equal(got, c.diags) {
				t.Fatalf("diagnostics %v, want %v", got, c.diags)
			}
			if !strings.Contains(ds[0].Message, c.words) {
				t.Errorf("message %q lacks %q", ds[0].Message, c.words)
			}
		})
	}
}

// TestLinksLeftOut: links in a package tarball are never
// written, so nothing in the package folder can point outside it.
func TestLinksLeftOut(t *testing.T) {
	reg := newRegistry(t)
	reg.add(infra, "1.0.0", makeTgz(t, []entry{
		{name: "package/index.js", body: "exports.x = 1;"},
		{name: "package/passwd.js", typ: tar.TypeSymlink, link: "/etc/passwd"},
		{name: "package/hard.js", typ: tar.TypeLink, link: "../../x"},
	}))
	dir, entries := repo(t, false, nil, infra)
	dest := filepath.Join(t.TempDir(), "nm")
	if _, ds, err := Install(context.Background(), dir, dest, opts(t, reg, entries)); err != nil || len(ds) != 0 {
		t.Fatalf("%v %v", err, ds)
	}
	var names []string
	filepath.WalkDir(filepath.Join(dest, infra), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, d.Name()+":"+d.Type().String())
		}
		return nil
	})
	if !slices.Equal(names, []string{"index.js:----------"}) {
		t.Fatalf("package folder holds %v", names)
	}
}

// TestNotAllowedFetchesNothing: a refused import never reaches the registry.
func TestNotAllowedFetchesNothing(t *testing.T) {
	reg := newRegistry(t)
	dir, entries := repo(t, false, nil, "left-pad")
	_, ds, err := Install(context.Background(), dir, t.TempDir(), opts(t, reg, entries))
	if err != nil || len(ds) != 1 || reg.requests.Load() != 0 {
		t.Fatalf("err %v, diags %v, requests %d", err, ds, reg.requests.Load())
	}
}

// TestRegistryDown: an unreachable registry is an error that names it.
func TestRegistryDown(t *testing.T) {
	reg := newRegistry(t)
	url := reg.URL
	reg.Close()
	dir, entries := repo(t, false, nil, infra)
	o := Options{Registry: url, CacheDir: t.TempDir(), Entries: entries}
	_, _, err := Install(context.Background(), dir, t.TempDir(), o)
	if err == nil || !strings.Contains(err.Error(), "registry "+url+" unreachable") {
		t.Fatalf("err = %v", err)
	}
	// A registry that answers 500 is an error too, not a diagnostic.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
	defer srv.Close()
	o.Registry = srv.URL
	if _, _, err := Install(context.Background(), dir, t.TempDir(), o); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
}

// TestImportsScan: only real imports count (not comments, strings or
// type-only imports); node built-ins are left to the bundler; each
// package is reported once, at its first import.
func TestImportsScan(t *testing.T) {
	dir, entries := repo(t, false, map[string]string{
		"kindeSrc/environment/workflows/lib/helper.ts": "import type { X } from \"type-only\";\n// import \"in-comment\";\nconst s = \"import 'in-string'\";\nexport const y = require('cjs-pkg/sub');\nexport type Y = X;\n",
	})
	src := "import { y } from \"./lib/helper\";\nimport fs from \"node:fs\";\nimport \"@scope/pkg/deep/file.js\";\n" +
		"export const workflowSettings = {id: \"w\", trigger: \"user:tokens_generation\"};\nexport default async () => { console.log(y, fs); };\n"
	os.WriteFile(filepath.Join(dir, filepath.FromSlash(entries[0])), []byte(src), 0o644)
	refs, _, err := ScanImports(context.Background(), dir, entries)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, fmt.Sprintf("%s %s:%d:%d", r.Package, r.File, r.Line, r.Col))
	}
	want := []string{
		"@scope/pkg kindeSrc/environment/workflows/wWorkflow.ts:3:8",
		"cjs-pkg kindeSrc/environment/workflows/lib/helper.ts:4:26",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("imports\n%v\nwant\n%v", got, want)
	}
}

func TestRanges(t *testing.T) {
	versions := []string{"0.8.0", "0.8.3", "0.9.0", "0.9.1-beta.1", "1.0.0", "1.2.0", "1.2.5", "2.0.0-rc.1", "2.0.0"}
	p := &packument{DistTags: map[string]string{"latest": "1.2.5", "next": "2.0.0-rc.1"}, Versions: map[string]struct {
		Dependencies map[string]string `json:"dependencies"`
		Dist         struct {
			Tarball   string `json:"tarball"`
			Integrity string `json:"integrity"`
		} `json:"dist"`
	}{}}
	for _, v := range versions {
		p.Versions[v] = p.Versions[""]
	}
	for spec, want := range map[string]string{
		"": "1.2.5", "latest": "1.2.5", "next": "2.0.0-rc.1", "*": "2.0.0", "x": "2.0.0",
		"^0.8.0": "0.8.3", "~0.8.1": "0.8.3", "^0.9.0": "0.9.0", "^1.0.0": "1.2.5", "~1.2.0": "1.2.5",
		"1.2": "1.2.5", "1.x": "1.2.5", "1": "1.2.5", ">=1.0.0 <1.2.1": "1.2.0", "<1.0.0": "0.9.0",
		"0.8.0 || 1.0.0": "1.0.0", "0.8.0 - 0.9": "0.9.0", ">= 2.0.0-rc.1": "2.0.0", "^0.9.1-beta.1": "0.9.1-beta.1",
		"^3.0.0": "", "nonsense!": "", "=1.0.0": "1.0.0", ">1.2": "2.0.0", "<=1.2": "1.2.5",
	} {
		got, ok := p.resolve(spec)
		if got != want || ok != (want != "") {
			t.Errorf("resolve(%q) = %q, %v; want %q", spec, got, ok, want)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{
		"@kinde/infrastructure": true, "left-pad": true, "a.b_c~d": true,
		"": false, "..": false, "@scope/..": false, "@/x": false, "a/b": false, "@s/a/b": false,
		".hidden": false, "UPPER": false, "a%2f": false, "@scope/": false,
	} {
		if err := validName(name); (err == nil) != ok {
			t.Errorf("validName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"^1.2.3", "~0.0.1", "1.x || >=2 <3", "1 - 2", ">= 1.0.0-rc.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRange(s)
		if err == nil {
			r.matches(version{1, 2, 3, ""})
		}
	})
}

func FuzzExtract(f *testing.F) {
	f.Add(pkgTgz(f, infra, "1.0.0"))
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, tgz []byte) {
		dir := t.TempDir()
		target := filepath.Join(dir, "pkg")
		_ = extract(tgz, target, Options{MaxUnpackedBytes: 1 << 20, MaxFiles: 100})
		// Nothing may be written outside the target.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() != "pkg" {
				t.Fatalf("extract left %s next to the target", e.Name())
			}
		}
	})
}

// TestConcurrentInstalls: syncs running at once share the tarball cache
// (written atomically) and each gets a complete package folder.
func TestConcurrentInstalls(t *testing.T) {
	reg := newRegistry(t)
	reg.add(infra, "0.9.0", realTarball(t))
	dir, entries := repo(t, false, nil, infra)
	o := opts(t, reg, entries)
	errs := make(chan error, 4)
	dests := make([]string, 4)
	for i := range dests {
		dests[i] = filepath.Join(t.TempDir(), "nm")
		go func() {
			_, ds, err := Install(context.Background(), dir, dests[i], o)
			if err == nil && len(ds) > 0 {
				err = fmt.Errorf("diagnostics %v", ds)
			}
			errs <- err
		}()
	}
	for range dests {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range dests {
		if _, err := os.Stat(filepath.Join(d, infra, "package.json")); err != nil {
			t.Error(err)
		}
	}
	cached, _ := os.ReadDir(o.CacheDir)
	if len(cached) != 1 || !strings.HasSuffix(cached[0].Name(), ".tgz") {
		t.Errorf("cache holds %v", cached)
	}
}

// A fork's pull request once killed the service through this scan: its
// own esbuild run had no source guard, and 2,000,000 [ overflowed the Go
// stack. Now the scan runs behind the bundler's walls: such a file, a
// tsconfig extending /dev/zero or a planted parent tsconfig end the scan
// with no imports (the check reports them), never a crash or a hang.
func TestScanSurvivesHostileSources(t *testing.T) {
	deep := "export const x = " + strings.Repeat("[", 2_000_000) + ";\n"
	for name, files := range map[string]map[string]string{
		"deep brackets":      {"kindeSrc/environment/workflows/lib/deep.ts": deep},
		"tsconfig /dev/zero": {"tsconfig.json": `{"extends": "/dev/zero"}`},
		"deep package.json":  {"kindeSrc/environment/workflows/package.json": "{\"a\": " + strings.Repeat("[", 2_000_000)},
	} {
		t.Run(name, func(t *testing.T) {
			dir, entries := repo(t, false, files, "./lib/deep")
			refs, _, err := ScanImports(context.Background(), dir, entries)
			if err != nil || len(refs) != 0 {
				t.Fatalf("refs %v, err %v", refs, err)
			}
		})
	}
	// A tsconfig above the repository does not apply (read, it would crash).
	parent := t.TempDir()
	os.WriteFile(filepath.Join(parent, "tsconfig.json"), []byte("{\"a\": "+strings.Repeat("[", 2_000_000)), 0o644)
	dir, entries := repo(t, false, nil, "some-pkg")
	sub := filepath.Join(parent, "repo")
	if err := os.Rename(dir, sub); err != nil {
		t.Fatal(err)
	}
	refs, _, err := ScanImports(context.Background(), sub, entries)
	if err != nil || len(refs) != 1 || refs[0].Package != "some-pkg" {
		t.Fatalf("refs %v, err %v", refs, err)
	}
}
