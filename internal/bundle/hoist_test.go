package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// TestHoistedBundles builds small repositories and runs each bundle the
// way the runtime loads it (a strict CommonJS wrapper). A bundle hoist can
// rewrite has no CommonJS interop; the others are built as CommonJS, as
// before, and every one exports the same values either way.
func TestHoistedBundles(t *testing.T) {
	const w = "kindeSrc/environment/workflows/w.ts"
	const settings = "export const workflowSettings = { id: \"w\", trigger: \"user:tokens_generation\" };\n"
	cases := []struct {
		name    string
		files   map[string]string
		hoisted bool
		want    string // what the default export resolves to
	}{
		{"ES modules", map[string]string{
			w:                                       "import { n } from \"./lib\";\n" + settings + "export default async function () { return \"n=\" + n; }\n",
			"kindeSrc/environment/workflows/lib.ts": "export const n = 2;\n",
		}, true, "n=2"},
		{"a CommonJS dependency", map[string]string{
			w:                                       "import c from \"./cjs.js\";\n" + settings + "export default async function () { return \"y=\" + c.y; }\n",
			"kindeSrc/environment/workflows/cjs.js": "exports.y = 7;\n",
		}, true, "y=7"},
		{"a dynamic import", map[string]string{
			w:                                       settings + "export default async function () { const m = await import(\"./lib\"); return \"n=\" + m.n; }\n",
			"kindeSrc/environment/workflows/lib.ts": "export const n = 3;\n",
		}, true, "n=3"},
		{"default and settings both aliased", map[string]string{
			w: "const s = { id: \"w\", trigger: \"user:tokens_generation\" };\nconst f = async () => \"aliased\";\nexport { s as workflowSettings, f as default };\n",
		}, true, "aliased"},
		{"a top-level module of its own", map[string]string{
			w: "const module = { x: \"own\" };\n" + settings + "export default async function () { return module.x; }\n",
		}, false, "own"},
		{"a var module in a loop", map[string]string{
			w: settings + "for (var module of [\"loop\"]) {}\nexport default async function () { return module; }\n",
		}, false, "loop"},
		{"a destructured module", map[string]string{
			w: "const { a: [module = \"destructured\"] } = { a: [] };\n" + settings + "export default async function () { return module; }\n",
		}, false, "destructured"},
		{"import.meta", map[string]string{
			w: settings + "const meta = typeof import.meta;\nexport default async function () { return meta; }\n",
		}, false, "object"},
		{"a CommonJS entry", map[string]string{
			w: "module.exports.default = async () => \"cjs\";\nmodule.exports.workflowSettings = { id: \"w\", trigger: \"user:tokens_generation\" };\n",
		}, false, "cjs"},
		{"export * from a CommonJS module", map[string]string{
			w:                                       settings + "export * from \"./cjs.js\";\nexport default async () => \"star\";\n",
			"kindeSrc/environment/workflows/cjs.js": "exports.extra = 1;\n",
		}, false, "star"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range c.files {
				p := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, ds := Build(root, w)
			if out == nil {
				t.Fatalf("build: %v", ds)
			}
			code := string(out.Code)
			hoisted := !strings.Contains(code, "__toCommonJS") && strings.Contains(code, "\nmodule.exports = { ")
			if hoisted != c.hoisted {
				t.Errorf("hoisted = %v, want %v:\n%s", hoisted, c.hoisted, code)
			}
			if first, _, _ := strings.Cut(code, "\n"); strings.Contains(first, "/fd/") || strings.Contains(code, root) {
				t.Errorf("the bundle names the build root:\n%s", code)
			}
			id, got, exp := runCommonJS(t, code)
			if strings.Contains(c.name, "export *") && exp.Get("extra") == nil {
				t.Errorf("the re-exported name is missing:\n%s", code)
			}
			if id != "w" || got != c.want {
				t.Errorf("workflowSettings.id %q, default() %q; want w, %q\n%s", id, got, c.want, code)
			}
		})
	}
}

// runCommonJS runs code as the runtime does and returns
// module.exports.workflowSettings.id, what the default export resolves to,
// and module.exports.
func runCommonJS(t *testing.T, code string) (id, result string, exp *goja.Object) {
	t.Helper()
	vm := goja.New()
	prog, err := goja.Compile("bundle.js", "(function (module, exports, require, kinde, console) {"+code+"\n})", true)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	wrapper, err := vm.RunProgram(prog)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := goja.AssertFunction(wrapper)
	module, exports := vm.NewObject(), vm.NewObject()
	_ = module.Set("exports", exports)
	if _, err := fn(exports, module, exports, goja.Undefined(), vm.NewObject(), vm.NewObject()); err != nil {
		t.Fatalf("module body: %v", err)
	}
	exp = module.Get("exports").ToObject(vm)
	if s, ok := exp.Get("workflowSettings").(*goja.Object); ok {
		id = s.Get("id").String()
	}
	def, ok := goja.AssertFunction(exp.Get("default"))
	if !ok {
		t.Fatalf("no default export function")
	}
	v, err := def(goja.Undefined())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := v.Export().(*goja.Promise)
	if !ok || p.State() != goja.PromiseStateFulfilled {
		t.Fatalf("default returned %v", v)
	}
	return id, p.Result().String(), exp
}

// TestHoistRefuses: anything but the exact clause esbuild writes, naming
// exactly the metafile's exports, is left to the CommonJS build.
func TestHoistRefuses(t *testing.T) {
	const smap = `{"version": 3, "sources": ["w.js"], "mappings": "AAAA;AACA;AACA", "names": []}`
	body := "var a = 1;\nvar b = 2;\n"
	cases := []struct {
		name, code string
		names      []string
		ok         bool
	}{
		{"the clause", body + "export {\n  a as default,\n  b\n};\n", []string{"default", "b"}, true},
		{"no exports", body, nil, true},
		{"a name the metafile lacks", body + "export {\n  a as default,\n  b\n};\n", []string{"default"}, false},
		{"a metafile name the clause lacks", body + "export {\n  a as default\n};\n", []string{"default", "b"}, false},
		{"a second clause", body + "export {\n  b\n};\nexport {\n  a as default\n};\n", []string{"default"}, false},
		{"__proto__", body + "export {\n  a as __proto__\n};\n", []string{"__proto__"}, false},
		{"a one-line clause", body + "export { a as default };\n", []string{"default"}, false},
		{"export default", body + "export default a;\n", []string{"default"}, false},
		{"an import left", "import x from \"y\";\n" + body + "export {\n  a as default\n};\n", []string{"default"}, false},
		{"code after the clause", body + "export {\n  a as default\n};\nb++;\n", []string{"default"}, false},
		{"a module function", body + "function module() {}\nexport {\n  a as default\n};\n", []string{"default"}, false},
		{"a module class", body + "class module {}\nexport {\n  a as default\n};\n", []string{"default"}, false},
		{"a syntax error", "var = ;\nexport {\n  a as default\n};\n", []string{"default"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m, ok := hoist([]byte(c.code), []byte(smap), c.names)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (%s)", ok, c.ok, code)
			}
			if !ok {
				return
			}
			if !strings.HasPrefix(string(code), body) {
				t.Errorf("the code before the clause changed: %q", code)
			}
			// The map keeps the two lines before the clause, no more.
			if want := `"mappings": "AAAA;AACA"`; c.names != nil && !strings.Contains(string(m), want) {
				t.Errorf("map %s, want %s", m, want)
			}
		})
	}
	code, _, _ := hoist([]byte(body+"export {\n  a as default,\n  b\n};\n"), []byte(smap), []string{"b", "default"})
	if want := body + "module.exports = { default: a, b: b };\n"; string(code) != want {
		t.Errorf("hoisted %q, want %q", code, want)
	}
}
