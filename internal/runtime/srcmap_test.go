package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/workflow"
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

// buildFlowgate bundles a TypeScript workflow with Flowgate's own build
// (internal/bundle), whose bundles assign module.exports directly.
func buildFlowgate(t testing.TB, ts string) (code, smap []byte) {
	t.Helper()
	root := t.TempDir()
	const entry = "kindeSrc/environment/workflows/claimsWorkflow.ts"
	p := filepath.Join(root, filepath.FromSlash(entry))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(ts), 0o644); err != nil {
		t.Fatal(err)
	}
	out, ds := bundle.Build(root, entry)
	if out == nil {
		t.Fatalf("build: %v", ds)
	}
	return out.Code, out.SourceMap
}

// TestErrorStackIsSourceMapped: both bundle shapes the runtime loads (the
// esbuild CommonJS bundles older Flowgate versions deployed, and today's
// build) report a stack in the workflow's own lines.
func TestErrorStackIsSourceMapped(t *testing.T) {
	for name, build := range map[string]func(testing.TB, string) ([]byte, []byte){"commonjs": build, "flowgate build": buildFlowgate} {
		t.Run(name, func(t *testing.T) {
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
		})
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

// TestTimedOutLoopStackPointsAtLoop: a run cut off by the wall-time limit
// inside a loop reports a stack whose first frame is a line of that loop
// (the condition or the body, wherever the interrupt landed), then the
// caller's line. Timing only decides when the limit fires, not the outcome.
func TestTimedOutLoopStackPointsAtLoop(t *testing.T) {
	const file = "kindeSrc/environment/workflows/claimsWorkflow.ts:"
	cases := []struct {
		name, loop string
		want       []string // the first frame names one of these
	}{
		{"condition and body", "while (n > 0) {\n    i++;\n  }", []string{"at spin (" + file + "5:", "at spin (" + file + "6:"}},
		{"condition only", "while (n > 0) {}", []string{"at spin (" + file + "5:"}},
		{"body only", "for (;;) { i++; }", []string{"at spin (" + file + "5:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := `export const workflowSettings = { id: "claims", trigger: "user:tokens_generation" };

function spin(n: number): number {
  let i = 0;
  ` + c.loop + `
  return i;
}

export default async function handle(event: any) {
  await null;
  return spin(event.n);
}
`
			code, smap := build(t, ts)
			e := New(Options{Limits: Limits{WallTime: 50 * time.Millisecond}})
			p, err := e.Load(code, smap)
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, e, p, `{"n": 5}`)
			if r.Error == nil || r.Error.Kind != workflow.KindTimeout {
				t.Fatalf("want a timeout, got %+v", r.Error)
			}
			lines := strings.Split(r.Error.Stack, "\n")
			if len(lines) < 3 {
				t.Fatalf("stack too short:\n%s", r.Error.Stack)
			}
			hit := false
			for _, w := range c.want {
				hit = hit || strings.Contains(lines[1], w)
			}
			if !hit {
				t.Errorf("first frame is not the loop (%q):\n%s", c.want, r.Error.Stack)
			}
			// The call is on line 11 after a one-line loop, 13 after three.
			call := 11 + strings.Count(c.loop, "\n")
			if !strings.Contains(lines[2], "at handle ("+file+strconv.Itoa(call)+":") {
				t.Errorf("second frame is not the call on line %d:\n%s", call, r.Error.Stack)
			}
		})
	}
}
