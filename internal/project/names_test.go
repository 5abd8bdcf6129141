package project

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestUnresolved checks the scope analysis on plain JavaScript: every
// binding form hides its name, property names and labels are not
// references, and only names nothing declares are left.
func TestUnresolved(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{"a; b.c; d?.e; f[g]", []string{"a", "b", "d", "f", "g"}},
		{"var a = 1; a; let {b, c: [d = e, ...f], ...g} = a; b, d, f, g", []string{"e"}},
		{"function h(x, {y} = z, ...r) { return x + y + r + h + w } h()", []string{"z", "w"}},
		{"hoisted(); function hoisted() {}", nil},
		{"later(); const later = () => 1", nil},
		{"const o = {key: 1, [computed]: 2, short, method() { return this }, get g() { return 1 }}", []string{"computed", "short"}},
		{"class K extends Base { #p = 1; static s = K; field = init; m() { return this.#p } [dyn]() {} } new K()", []string{"Base", "init", "dyn"}},
		{"try { x() } catch ({message}) { message } finally { y }", []string{"x", "y"}},
		{"for (const [k, v] of m) k + v; for (var i in o) i; for (j of q) ;", []string{"m", "o", "j", "q"}},
		{"outer: for (;;) { break outer; continue outer }", nil},
		{"typeof window; typeof (paren); typeof a.b; void gone", []string{"a", "gone"}},
		{"(function named() { named })(); (() => arguments)(); new.target", []string{"arguments"}},
		{"`${tpl}` + tag`x${y}`", []string{"tpl", "tag", "y"}},
		{"function f() { var inner = 1 } inner", []string{"inner"}},
		// Issue 18.4: code that asks typeof X knows X may be missing.
		{`const env = typeof process !== "undefined" ? process.env.X : null; if (typeof TextEncoder === "function") { new TextEncoder() } other`, []string{"other"}},
		{"function f() { if (typeof Buffer !== 'undefined') return Buffer.from('a') } Buffer; unguarded", []string{"unguarded"}},
	}
	for _, c := range cases {
		refs, _, err := unresolved([]byte(c.src))
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		var got []string
		for _, r := range refs {
			got = append(got, r.name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.src, got, c.want)
		}
	}
}

// FuzzUnresolved: any JavaScript goja parses is walked without a panic.
func FuzzUnresolved(f *testing.F) {
	for _, s := range []string{"a.b(c)", "class A { #x; static { y } }", "({a, b: [c]} = d)", "label: { break label }", "async function* g() { yield* h }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _, _ = unresolved([]byte(src))
	})
}

func TestUndefinedMessage(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"fetch", "", "call kinde.fetch"},
		{"MFAPolicy", "type MFAPolicy = 1", "only a TypeScript type"},
		{"Shape", "export interface Shape { a: 1 }", "only a TypeScript type"},
		{"Opts", "import type { Opts } from './x'", "only a TypeScript type"},
		{"Other", "import { type Other, b } from './x'", "only a TypeScript type"},
		{"HOST", "declare const HOST: string;", "only a TypeScript type or declaration"},
		{"createKindeAPI", "", `add it to the import from "@kinde/infrastructure"`},
		{"WorkflowTrigger", "", `import { WorkflowTrigger } from "@kinde/infrastructure"`},
		{"consle", "", "did you mean console?"},
		{"mystery", "const mysteryBox = 1", "declare it or import it"},
	}
	for _, c := range cases {
		if got := undefinedMessage(c.name, typeNames([]byte(c.src))); !strings.Contains(got, c.want) || !strings.Contains(got, "ReferenceError") {
			t.Errorf("%s in %q: %q lacks %q", c.name, c.src, got, c.want)
		}
	}
}

func TestExportedSettings(t *testing.T) {
	for src, want := range map[string]bool{
		"export const workflowSettings = {}":                       true,
		"export let workflowSettings = {}":                         true,
		"const s = {}; export { s as workflowSettings }":           true,
		"const workflowSettings = {}; export { workflowSettings }": true,
		"exports.workflowSettings = {}":                            true,
		"export { workflowSettings as other }":                     false,
		"// export const workflowSettings = {}":                    false,
		"/* export const workflowSettings */":                      false,
		`const s = "export const workflowSettings = 1"`:            false,
		"export const workflowSettingsX = {}":                      false,
		"if (exports.workflowSettings == null) {}":                 false,
		"import { workflowSettings } from './x'":                   false,
		// Issue 18.4: barrels and test helpers re-export a workflow's settings.
		"export { workflowSettings } from './xWorkflow'":                                false,
		"export { workflowSettings as s, default } from './xWorkflow'":                  false,
		"import { workflowSettings } from './xWorkflow'; export { workflowSettings }":   false,
		"import { workflowSettings as w } from './x'; export { w as workflowSettings }": false,
	} {
		if _, got := exportedSettings([]byte(src)); got != want {
			t.Errorf("exportedSettings(%q) = %v, want %v", src, got, want)
		}
	}
}

// The undefined-name check once cost (distinct names × source size) and
// ignored cancellation: 5,000 names in 34 KB took 21 s of CPU. Now one
// pass finds them all, and a cancelled check stops.
func TestUndefinedNamesManyNamesAndCancel(t *testing.T) {
	var b strings.Builder
	b.WriteString("export const workflowSettings = {id: \"many\", trigger: \"user:tokens_generation\"};\nexport default async () => {\n")
	const n = 5000
	for i := range n {
		fmt.Fprintf(&b, "  if (globalThis.x) name%d();\n", i)
	}
	b.WriteString("};\n")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "kinde.json"), `{"rootDir": "kindeSrc", "version": "2024-12-09"}`)
	writeFile(t, filepath.Join(dir, "kindeSrc", "environment", "workflows", "manyWorkflow.ts"), b.String())
	rep, err := Check(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, d := range rep.Diagnostics {
		if d.Rule == RuleUndefinedName {
			got++
		}
	}
	if got != n {
		t.Fatalf("%d undefined-name warnings, want %d", got, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := unresolvedCtx(ctx, rep.Workflows[0].Bundle.Code); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled walk: %v", err)
	}
	if _, err := Check(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled check: %v", err)
	}
}

// Issue 18.5: process.env gets the Kinde way to read variables.
func TestUndefinedMessageProcess(t *testing.T) {
	msg := undefinedMessage("process", nil)
	for _, want := range []string{"process is not defined in the workflow sandbox", `kinde.env.get("NAME")`, `getEnvironmentVariable("NAME")`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}
