package runtime

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// nativeStackTS calls one host function on line 4 of the workflow.
const nativeStackTS = `export const workflowSettings = { id: "nativeStack", trigger: "user:tokens_generation" };

export default async function handle(event: any) {
  await %s;
}
`

// Errors thrown by the bindings show the binding (fetch, secureFetch,
// jwtToken) or the host function's JS name (get), never a Go function,
// and keep the workflow's own .ts position.
func TestBindingErrorStackHasNoGoFrames(t *testing.T) {
	cases := []struct {
		name, call, msg, frame string
	}{
		{"fetch refused", `kinde.fetch("http://127.0.0.1:9/x")`, "loopback address", "at kinde.fetch (native)"},
		{"secureFetch refused", `kinde.secureFetch("http://127.0.0.1:9/x", { method: "POST" })`, "kinde.secureFetch", "at kinde.secureFetch (native)"},
		{"cache argument", `kinde.cache.jwtToken(1 as any, {} as any)`, "kinde.cache.jwtToken", "at kinde.cache.jwtToken (native)"},
		{"env method", `kinde.env.get(42 as any)`, "kinde.env.get", "at get (native)"},
	}
	st := workflow.Settings{ID: "nativeStack", Trigger: workflow.UserTokenGeneration, Bindings: map[string]workflow.BindingSettings{
		workflow.BindFetch: {}, workflow.BindSecureFetch: {}, workflow.BindEnv: {},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, smap := build(t, fmt.Sprintf(nativeStackTS, c.call))
			e := New(Options{})
			p, err := e.Load(code, smap)
			if err != nil {
				t.Fatal(err)
			}
			// No Bindings config: no allow-list, so 127.0.0.1 is refused.
			r := e.Run(context.Background(), Invocation{Program: p, Settings: st, Event: []byte(`{}`)})
			wantFailed(t, r, c.msg)
			stack := r.Error.Stack
			if strings.Contains(stack, "github.com/") || strings.Contains(stack, "-fm") {
				t.Errorf("stack shows Go frames:\n%s", stack)
			}
			for _, want := range []string{c.frame, "at handle (kindeSrc/environment/workflows/claimsWorkflow.ts:4:"} {
				if !strings.Contains(stack, want) {
					t.Errorf("stack lacks %q:\n%s", want, stack)
				}
			}
		})
	}
}

func TestNativeName(t *testing.T) {
	cases := []struct {
		in, want string
		keep     bool
	}{
		{"map", "map", true},
		{"setCustomClaim", "setCustomClaim", true},
		{"fetch", "kinde.fetch", true}, // the bindings' JS names
		{"secureFetch", "kinde.secureFetch", true},
		{"jwtToken", "kinde.cache.jwtToken", true},
		{"get", "get", true},
		{"", "", true},
		{"github.com/flowgate/flowgate/internal/bindings.(*Invocation).fetch-fm", "kinde.fetch", true},
		{"github.com/flowgate/flowgate/internal/bindings.(*Invocation).secureFetch-fm", "kinde.secureFetch", true},
		{"github.com/flowgate/flowgate/internal/bindings.(*Invocation).jwtToken-fm", "kinde.cache.jwtToken", true},
		{"github.com/flowgate/flowgate/internal/bindings.(*Invocation).binding.(*Invocation).mfaObject.func2", "kinde.mfa", true},
		{"github.com/flowgate/flowgate/internal/bindings.(*Invocation).planObject.func3", "kinde.plan", true},
		{"github.com/flowgate/flowgate/internal/bindings.(*Invocation).readFetch-fm", "", false},
		{"github.com/flowgate/flowgate/internal/bindings.(*Invocation).cacheObject.func1", "", false}, // not a binding name
		{"github.com/flowgate/flowgate/internal/bindings.NewRealm.func1", "", false},
		{"main.(*T).helper-fm", "", false},
	}
	for _, c := range cases {
		got, keep := nativeName(c.in)
		if got != c.want || keep != c.keep {
			t.Errorf("nativeName(%q) = %q, %v; want %q, %v", c.in, got, keep, c.want, c.keep)
		}
	}
}

type fakeInvocation struct {
	vm     *goja.Runtime
	frames []goja.StackFrame
}

// fetch has the Go name of a bindings method value ("…(*fakeInvocation).fetch-fm").
func (f *fakeInvocation) fetch(goja.FunctionCall) goja.Value {
	f.frames = f.vm.CaptureCallStack(0, nil)
	return goja.Undefined()
}

// formatFrames (interrupts, stack overflows) renames and drops Go frames too.
func TestFormatFramesNativeNames(t *testing.T) {
	vm := goja.New()
	fi := &fakeInvocation{vm: vm}
	vm.Set("fetch", fi.fetch)
	vm.Set("host", func(call goja.FunctionCall) goja.Value { // a Go closure: dropped
		f, _ := goja.AssertFunction(call.Argument(0))
		if _, err := f(goja.Undefined()); err != nil {
			panic(err)
		}
		return goja.Undefined()
	})
	prog, err := goja.Compile(bundleName, "function outer() { [1].forEach(function inner() { host(function cb() { fetch(); }); }); }\nouter();", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.RunProgram(prog); err != nil {
		t.Fatal(err)
	}
	got := formatFrames(&Program{}, "Error: x", fi.frames)
	want := []string{"at kinde.fetch (native)", "at cb (bundle.js:1:", "at inner (bundle.js:1:", "at forEach (native)", "at outer (bundle.js:1:"}
	lines := strings.Split(got, "\n")[1:]
	if len(lines) < len(want) {
		t.Fatalf("stack has %d frames, want %d:\n%s", len(lines), len(want), got)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("frame %d is %q, want %q:\n%s", i, lines[i], w, got)
		}
	}
	if strings.Contains(got, "github.com/") || strings.Contains(got, ".func") {
		t.Errorf("stack shows Go frames:\n%s", got)
	}
}
