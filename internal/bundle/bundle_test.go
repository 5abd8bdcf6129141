package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/srcmap"
	"github.com/flowgate/flowgate/internal/testenv"
)

const entry = "kindeSrc/environment/workflows/featuresWorkflow.ts"

// TestLoweredSyntaxRunsInGoja bundles a workflow using ||=, ??=, &&=,
// for await, an async generator and private class fields, and runs the
// bundle in goja, which cannot parse that syntax itself.
func TestLoweredSyntaxRunsInGoja(t *testing.T) {
	root := testenv.CopyRepo(t, filepath.Join("testdata", "features"), true)
	out, ds := Build(root, entry)
	if out == nil {
		t.Fatalf("build: %v", ds)
	}
	// goja itself rejects the original syntax: the lowering is what helps.
	if _, err := goja.Compile("raw.js", "let a; a ||= 1; async function* g() {}", false); err == nil {
		t.Log("note: this goja parses logical assignment and async generators natively")
	}
	vm := goja.New()
	module := vm.NewObject()
	exports := vm.NewObject()
	_ = module.Set("exports", exports)
	_ = vm.Set("module", module)
	_ = vm.Set("exports", exports)
	_ = vm.Set("kinde", vm.NewObject())
	if _, err := vm.RunScript("bundle.js", string(out.Code)); err != nil {
		t.Fatalf("run bundle: %v", err)
	}
	fn, ok := goja.AssertFunction(module.Get("exports").ToObject(vm).Get("default"))
	if !ok {
		t.Fatal("no default export function")
	}
	v, err := fn(goja.Undefined(), vm.ToValue(map[string]any{"a": 0, "b": nil, "c": true}))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := v.Export().(*goja.Promise)
	if !ok || p.State() != goja.PromiseStateFulfilled {
		t.Fatalf("default returned %v (state %v)", v, p)
	}
	got, _ := json.Marshal(p.Result().Export())
	want := `{"a":10,"b":"dflt","big":"1000","c":false,"count":10,"sum":10,"trigger":"user:tokens_generation"}`
	if string(got) != want {
		t.Fatalf("result %s, want %s", got, want)
	}
}

// TestDeterministic builds the same repository from two different folders:
// the bundles must be byte-identical and name no absolute path.
func TestDeterministic(t *testing.T) {
	a := testenv.CopyRepo(t, filepath.Join("testdata", "features"), true)
	b := testenv.CopyRepo(t, filepath.Join("testdata", "features"), true)
	outA, ds := Build(a, entry)
	if outA == nil {
		t.Fatal(ds)
	}
	outB, ds := Build(b, entry)
	if outB == nil {
		t.Fatal(ds)
	}
	if outA.SHA256 != outB.SHA256 || !bytes.Equal(outA.SourceMap, outB.SourceMap) {
		t.Fatalf("outputs differ: %s vs %s", outA.SHA256, outB.SHA256)
	}
	for _, s := range [][]byte{outA.Code, outA.SourceMap} {
		for _, dir := range []string{a, testenv.Root(), os.TempDir()} {
			if bytes.Contains(s, []byte(dir)) {
				t.Errorf("output contains the absolute path %s", dir)
			}
		}
	}
	wantInputs := []string{
		"kindeSrc/environment/workflows/counter.ts",
		"kindeSrc/environment/workflows/featuresWorkflow.ts",
		"node_modules/@kinde/infrastructure/dist/infrastructure.js",
	}
	if !slices.Equal(outA.Inputs, wantInputs) {
		t.Errorf("inputs = %v, want %v", outA.Inputs, wantInputs)
	}
	var sm struct{ Sources []string }
	if err := json.Unmarshal(outA.SourceMap, &sm); err != nil || len(sm.Sources) != len(wantInputs) {
		t.Errorf("source map sources %v (%v)", sm.Sources, err)
	}
	for _, s := range sm.Sources { // in bundle order, each repository-relative
		if !slices.Contains(wantInputs, s) {
			t.Errorf("source map source %q is not repository-relative", s)
		}
	}
	// The source map leads back to the original line of `sum += n`.
	m, err := srcmap.Parse("bundle.js.map", outA.SourceMap)
	if err != nil {
		t.Fatal(err)
	}
	line := 1 + bytes.Count(outA.Code[:bytes.Index(outA.Code, []byte("sum += n"))], []byte("\n"))
	pos, ok := m.Original(line, 7)
	if !ok || pos.File != entry || pos.Line != 22 {
		t.Errorf("sum += n maps to %+v, want %s:22", pos, entry)
	}
}

// TestResolutionStaysInRepo: a package installed only above the repository
// root, a relative import out of it and a link out of it are all refused.
func TestResolutionStaysInRepo(t *testing.T) {
	outer := t.TempDir()
	write(t, filepath.Join(outer, "node_modules", "above-only", "package.json"), `{"name": "above-only", "main": "index.js"}`)
	write(t, filepath.Join(outer, "node_modules", "above-only", "index.js"), `module.exports = 1;`)
	write(t, filepath.Join(outer, "secret.js"), `export const secret = "s3cr3t";`)
	root := filepath.Join(outer, "repo")
	write(t, filepath.Join(root, "lib", "ok.ts"), `export const ok = 1;`)
	if err := os.Symlink(filepath.Join(outer, "secret.js"), filepath.Join(root, "lib", "linked.js")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, src string
		want      []string // substrings of the one diagnostic's message
		line, col int
	}{
		{"package above root", "import x from \"above-only\";\nexport default x;", []string{`"above-only"`, "npm install above-only"}, 1, 15},
		{"scoped subpath", "import x from \"@acme/tools/sub\";\nexport default x;", []string{`"@acme/tools"`, "npm install @acme/tools"}, 1, 15},
		{"relative out", "export { secret } from \"../../secret.js\";", []string{"outside the repository"}, 1, 24},
		{"link out", "export { secret } from \"../lib/linked.js\";", []string{"outside the repository"}, 1, 24},
		{"inside", "export { ok } from \"../lib/ok\";", nil, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			write(t, filepath.Join(root, "w", "xWorkflow.ts"), c.src)
			out, ds := Build(root, "w/xWorkflow.ts")
			if c.want == nil {
				if out == nil {
					t.Fatalf("build failed: %v", ds)
				}
				return
			}
			if out != nil || len(ds) != 1 {
				t.Fatalf("want one diagnostic, got out=%v ds=%v", out != nil, ds)
			}
			d := ds[0]
			rule := RuleBuildError
			if strings.Contains(c.name, "out") {
				rule = RuleLinkOutsideRepo
			}
			if d.Rule != rule || d.File != "w/xWorkflow.ts" || d.Line != c.line || d.Column != c.col {
				t.Errorf("diagnostic %v, want %s at w/xWorkflow.ts:%d:%d", d, rule, c.line, c.col)
			}
			for _, w := range c.want {
				if !strings.Contains(d.Message, w) {
					t.Errorf("message %q lacks %q", d.Message, w)
				}
			}
			if strings.Contains(d.Message, outer) {
				t.Errorf("message reveals a host path: %s", d.Message)
			}
		})
	}
}

func TestSizeLimit(t *testing.T) {
	root := t.TempDir()
	big := strings.Repeat("x", MaxBundleSize+1)
	write(t, filepath.Join(root, "bigWorkflow.js"), `export const blob = "`+big+`"; export default async () => blob;`)
	out, ds := Build(root, "bigWorkflow.js")
	if out != nil || len(ds) != 1 || ds[0].Rule != RuleBuildError || !strings.Contains(ds[0].Message, "over the 5 MiB limit") {
		t.Fatalf("got out=%v ds=%v", out != nil, ds)
	}
}

func TestErrorsAreLocated(t *testing.T) {
	cases := []struct {
		src  string
		want string
	}{
		{"export default async () => {};\nconst x = await 1;", "w.ts:2:11: error"},
		{"export default async () => {\n  let é = {;\n};", "w.ts:2:12: error"},
		{"import { nope } from \"./lib\";\nexport default nope;", "w.ts:1:10: error"},
	}
	root := t.TempDir()
	write(t, filepath.Join(root, "lib.ts"), "export const yes = 1;")
	for _, c := range cases {
		write(t, filepath.Join(root, "w.ts"), c.src)
		_, ds := Build(root, "w.ts")
		if len(ds) == 0 || !strings.HasPrefix(ds[0].String(), c.want) {
			t.Errorf("%q: got %v, want prefix %q", c.src, ds, c.want)
		}
		if diag.HasErrors(ds) && ds[0].Rule != RuleBuildError {
			t.Errorf("rule %s", ds[0].Rule)
		}
	}
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBuildAllMatchesBuild: one run for many entries gives each the same
// bundle as building it alone, and one broken entry does not sink the rest.
func TestBuildAllMatchesBuild(t *testing.T) {
	root := testenv.CopyRepo(t, filepath.Join("testdata", "features"), true)
	write(t, filepath.Join(root, "kindeSrc", "environment", "workflows", "otherWorkflow.ts"),
		"import { Counter } from \"./counter\";\nexport default async () => new Counter().total;\n")
	entries := []string{entry, "kindeSrc/environment/workflows/otherWorkflow.ts"}
	all := BuildAll(root, entries)
	for i, e := range entries {
		alone, ds := Build(root, e)
		if all[i].Output == nil || alone == nil {
			t.Fatalf("%s: %v %v", e, all[i].Diagnostics, ds)
		}
		if all[i].Output.SHA256 != alone.SHA256 || !bytes.Equal(all[i].Output.SourceMap, alone.SourceMap) || !slices.Equal(all[i].Output.Inputs, alone.Inputs) {
			t.Errorf("%s: batch and single builds differ", e)
		}
	}
	write(t, filepath.Join(root, "kindeSrc", "environment", "workflows", "brokenWorkflow.ts"), "export default {;\n")
	entries = append(entries, "kindeSrc/environment/workflows/brokenWorkflow.ts")
	all = BuildAll(root, entries)
	if all[0].Output == nil || all[1].Output == nil || all[2].Output != nil || len(all[2].Diagnostics) != 1 {
		t.Fatalf("results: %+v", all)
	}
	if d := all[2].Diagnostics[0]; d.File != entries[2] || d.Line != 1 || d.Column != 17 {
		t.Errorf("diagnostic %v", d)
	}
}
