package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNesting(t *testing.T) {
	deep := strings.Repeat("(", 2000) + "1" + strings.Repeat(")", 2000)
	cases := []struct {
		name string
		src  string
		want int
	}{
		{"flat", `const a = f(x[0], {b: 1});`, 2},
		// Text in literals and comments counts as if it were code (from the
		// literal's own depth): only a parser tells a regexp from a
		// division, and a wrong guess must not hide brackets.
		{"brackets in strings", `const s = "((((" + '[[[[' + "\"(((";`, 4},
		{"closing brackets in strings", `f("))))"); g(h())`, 2},
		{"brackets in comments", "// ((((\n/* [[[ */ f()", 4},
		{"regexp", `const r = /[(]{2}(a)/g; f(r)`, 2},
		{"division is not a regexp", `const x = (a) / (b) / (c);`, 1},
		{"template text", "const t = `((${ f(g(1)) }))`;", 3},
		{"nested templates", "`${ `${ (1) }` }`", 3},
		{"deep", "const x = " + deep, 2000},
		// A quote in a regexp must not hide what follows from the scan.
		{"quote in regexp", "if (x) y = /'/.test(s); f(" + deep + ")", 2001},
		{"return regexp", "function f() { return /'/.test(s) } g(" + deep + ")", 2001},
		{"deep in template code", "`${" + deep + "}`", 2001},
		// What the scan takes for a literal may be code: a TypeScript
		// non-null assertion, a postfix ++ or a number ending in a dot
		// before a division, or a regexp after a statement's ), where the
		// scan guesses a division and the quote in the regexp starts a string.
		{"division after non-null assertion", "x = a! / " + deep, 2000},
		{"division after postfix ++", "x = a++ / " + deep, 2000},
		{"division after number with dot", "x = 1. / " + deep, 2000},
		{"regexp after if (…)", "if (a) /'/.test(s), " + deep, 2000},
		{"regexp after block", "{} /'/.test(s), " + deep, 2000},
		{"regexp with comment opener after if (…)", "if (a) /\\/*/.test(s), " + deep + "// */", 2000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, got := nesting([]byte(c.src)); got != c.want {
				t.Fatalf("nesting = %d, want %d", got, c.want)
			}
		})
	}
}

func TestDropMapComments(t *testing.T) {
	src := "a();\n//# sourceMappingURL=../../../outside.map\nb();\n/*# sourceMappingURL=x.map */\n//# sourceMappingURL=data:application/json;base64,e30=\n"
	got := dropMapComments(src)
	if strings.Contains(got, "outside.map") || strings.Contains(got, "x.map") || !strings.Contains(got, "data:application/json") {
		t.Fatalf("got %q", got)
	}
	if len(got) != len(src) {
		t.Fatal("positions moved")
	}
}

// A source nested 300,000 levels deep would overflow the Go stack in
// esbuild's parser and kill the process; a sourceMappingURL comment would
// make the build read a file outside the repository. The first is
// refused, the second ignored.
func TestBuildRefusesDeepSourcesAndOutsideMaps(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	outside := filepath.Join(dir, "outside.map")
	os.WriteFile(outside, []byte(`{"version":3,"sources":["HOSTFILE-SOURCE.ts"],"names":[],"mappings":"AAAA"}`), 0o644)
	write := func(name, text string) {
		p := filepath.Join(repo, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("deep.ts", "export const x = "+strings.Repeat("(", 300000)+"1"+strings.Repeat(")", 300000)+";\n")
	write("lib.js", "export function boom() { throw new Error('x') }\n//# sourceMappingURL=../outside.map\n")
	write("deepWorkflow.ts", "import { x } from './deep';\nexport default async () => x;\n")
	write("mapWorkflow.ts", "import { boom } from './lib';\nexport default async () => boom();\n")

	res := BuildAll(repo, []string{"deepWorkflow.ts", "mapWorkflow.ts"})
	if res[0].Output != nil || len(res[0].Diagnostics) == 0 || !strings.Contains(res[0].Diagnostics[0].Message, "nests brackets more than") {
		t.Fatalf("deep source: %+v", res[0])
	}
	out := res[1].Output
	if out == nil {
		t.Fatalf("map workflow did not build: %+v", res[1].Diagnostics)
	}
	if strings.Contains(string(out.SourceMap), "HOSTFILE") {
		t.Fatal("the build read a source map outside the repository")
	}
}

// TestChains: right-recursive constructs without brackets are counted per
// statement and bracket depth; ordinary code, even long minified code,
// stays far below MaxChain.
func TestChains(t *testing.T) {
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	cases := []struct {
		name string
		src  string
		over bool
	}{
		{"not", "x = " + rep("!", MaxChain+1) + "a", true},
		{"conditional", rep("a?a:", MaxChain) + "a", true},
		{"else if", rep("if(a){}else ", MaxChain+1) + "{}", true},
		{"arrows", rep("a=>", MaxChain+1) + "a", true},
		{"assignments", rep("a=", MaxChain+1) + "1", true},
		{"new", rep("new ", MaxChain+1) + "A", true},
		{"typeof", rep("typeof ", MaxChain+1) + "A", true},
		{"exponent", rep("2**", MaxChain+1) + "2", true},
		{"labels", rep("a:", MaxChain+1) + "0", true},
		{"prefix minus", "x = " + rep("- ", MaxChain+1) + "1", true},
		{"statements reset", rep("a = !b;\n", 2*MaxChain), false},
		{"object keys reset", "({" + rep("a: b ? c : !d,\n", 2*MaxChain) + "})", false},
		{"comparisons are not assignments", "x = " + rep("a == b && c != d && e <= f && g >= h && ", 2*MaxChain) + "1", false},
		{"optional chaining and ??", "x = " + rep("a?.b ?? ", 2*MaxChain) + "1", false},
		// Literal text is measured as code too: what the scan takes for a
		// literal may be code to a parser (a regexp or a division).
		{"strings", "x = \"" + rep("!", 2*MaxChain) + "\"", true},
		{"comments", "x = 1 /* " + rep("a=", 2*MaxChain) + " */", true},
		{"division after non-null assertion", "x = a! / " + rep("!", MaxChain+1) + "a", true},
		{"regexp after if (…)", "if (a) /'/.test(s), " + rep("typeof ", MaxChain+1) + "a", true},
		{"strings reset", "x = \"" + rep("!a; ", 2*MaxChain) + "\"", false},
		{"in brackets", "f(" + rep("(!a), ", 2*MaxChain) + ")", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s := measure([]byte(c.src)); (s.chain > MaxChain) != c.over {
				t.Fatalf("chain %d, want over %d: %v", s.chain, MaxChain, c.over)
			}
		})
	}
}

// TestTerms: operators in one expression are bounded, across brackets
// too, since a compiler walks the left operand of each.
func TestTerms(t *testing.T) {
	rep := strings.Repeat
	cases := []struct {
		name string
		src  string
		over bool
	}{
		{"sum", "x = a" + rep("+a", MaxTerms+1), true},
		{"comparisons", "x = " + rep("a == b && ", MaxTerms), true},
		{"through brackets", "x = " + rep("(", 20) + "a" + rep(rep("+a", MaxTerms/20)+")", 20) + "+a", true},
		{"statements reset", rep("x = a + b;\n", 2*MaxTerms), false},
		{"arguments reset", "f(" + rep("a + b, ", 2*MaxTerms) + ")", false},
		{"function bodies reset", "(function () {" + rep("x = a + b;", 2*MaxTerms) + "})()", false},
		{"minified functions", "!function () {" + rep("function f() { return a + b }", 2*MaxTerms) + "}()", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s := measure([]byte(c.src)); (s.terms > MaxTerms) != c.over {
				t.Fatalf("terms %d, want over %d: %v", s.terms, MaxTerms, c.over)
			}
		})
	}
}

// FuzzMeasure: the pre-scan never panics and never reports more nesting
// than the text has brackets.
func FuzzMeasure(f *testing.F) {
	for _, s := range []string{"f(a[b{c}])", "`${`${x}`}`", "a?b:c", "/[(]/.test(x)", "// (\n(", "'\\''(", "x=>y=>z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s := measure([]byte(src))
		if open := strings.Count(src, "(") + strings.Count(src, "[") + strings.Count(src, "{"); s.depth > open {
			t.Fatalf("depth %d > %d opening brackets", s.depth, open)
		}
	})
}

// TestExtendsOf: the extends check reads a tsconfig as esbuild does, so
// no spelling of the key or value slips past it.
func TestExtendsOf(t *testing.T) {
	cases := map[string][]string{
		`{"extends": "./base"}`:                   {"./base"},
		`{"extends": ["a", "b"]}`:                 {"a", "b"},
		`{"ext\u0065nds": "/dev/zero"}`:           {"/dev/zero"},
		`{"extends" /* c */ : "/dev/zero"}`:       {"/dev/zero"},
		"{\"extends\" // c\n : \"/dev/zero\"}":    {"/dev/zero"},
		`{'extends': '/dev/zero'}`:                {"/dev/zero"},
		`{"extends": "\u002fdev/zero"}`:           {"/dev/zero"},
		`{"extends": "\x2fdev/zero"}`:             {"/dev/zero"},
		`{"extends": /* c */ ["/a", /* "/b" */]}`: {"/a"},
		`// "extends": "x"` + "\n{}":              nil,
		`{"x": "extends", "y": "z"}`:              nil,
	}
	for src, want := range cases {
		var got []string
		for _, e := range extendsOf([]byte(src)) {
			got = append(got, e.path)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: extends %q, want %q", src, got, want)
		}
	}
}

// FuzzExtendsOf: any tsconfig text is scanned without a panic, and every
// offset found lies inside it.
func FuzzExtendsOf(f *testing.F) {
	for _, s := range []string{`{"extends": "./base"}`, `{"extends": ["a", "b"]}`, `{"extends": `, `// "extends": "x"` + "\n{}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, e := range extendsOf([]byte(src)) {
			if e.off < 0 || e.off > len(src) {
				t.Fatalf("offset %d outside %d bytes", e.off, len(src))
			}
		}
	})
}
