package runtime

import (
	"errors"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// build bundles a TypeScript workflow the way Flowgate does (CommonJS,
// external source map) and returns the bundle and its map.
func build(t testing.TB, ts string) (code, smap []byte) {
	t.Helper()
	res := api.Build(api.BuildOptions{
		Stdin:     &api.StdinOptions{Contents: ts, Sourcefile: "kindeSrc/environment/workflows/claimsWorkflow.ts", Loader: api.LoaderTS},
		Bundle:    true,
		Format:    api.FormatCommonJS,
		Target:    api.ES2019,
		Sourcemap: api.SourceMapExternal,
		Outfile:   "out.js",
		Write:     false,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("esbuild: %v", res.Errors)
	}
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			smap = f.Contents
		} else {
			code = f.Contents
		}
	}
	return code, smap
}

const throwingTS = `export const workflowSettings = { id: "claims", trigger: "user:tokens_generation" };

function check(n: number): number {
  if (n > 1) {
    throw new Error("too big: " + n);
  }
  return n;
}

export default async function handle(event: any) {
  check(event.n);
}
`

func TestErrorStackIsSourceMapped(t *testing.T) {
	code, smap := build(t, throwingTS)
	e := New(Options{})
	p, err := e.Load(code, smap)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, e, p, `{"n": 5}`)
	wantFailed(t, r, "Error: too big: 5")
	for _, want := range []string{"claimsWorkflow.ts:5:11", "claimsWorkflow.ts:11:3"} {
		if !strings.Contains(r.Error.Stack, want) {
			t.Errorf("stack %q lacks %s", r.Error.Stack, want)
		}
	}
	if strings.Contains(r.Error.Stack, "bundle.js") {
		t.Errorf("stack still names the bundle: %q", r.Error.Stack)
	}
}

func TestLoadErrorLocated(t *testing.T) {
	// for await is a SyntaxError in goja: esbuild with target esnext keeps
	// it, so the error must point at the .ts line.
	res := api.Build(api.BuildOptions{
		Stdin: &api.StdinOptions{Contents: "let a: any = 0;\n\nexport default async function () {\n  for await (const x of a) {}\n}\n",
			Sourcefile: "w/syntaxWorkflow.ts", Loader: api.LoaderTS},
		Bundle: true, Format: api.FormatCommonJS, Target: api.ESNext, Sourcemap: api.SourceMapExternal,
		Outfile: "out.js", Write: false,
	})
	var code, smap []byte
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			smap = f.Contents
		} else {
			code = f.Contents
		}
	}
	_, err := New(Options{}).Load(code, smap)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load error %v; want *LoadError", err)
	}
	if le.File != "w/syntaxWorkflow.ts" || le.Line != 4 {
		t.Fatalf("LoadError %+v; want w/syntaxWorkflow.ts line 4", le)
	}
}

func TestLoadErrorWithoutMap(t *testing.T) {
	_, err := New(Options{}).Load([]byte("module.exports = {"), nil)
	var le *LoadError
	if !errors.As(err, &le) || le.File != bundleName || !strings.Contains(le.Message, "SyntaxError") {
		t.Fatalf("got %v", err)
	}
	if _, err := New(Options{}).Load([]byte("1"), []byte("{not json")); err == nil {
		t.Fatal("bad source map accepted")
	}
}
