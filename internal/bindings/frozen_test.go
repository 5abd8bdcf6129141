package bindings

import (
	"context"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// deepFreeze freezes everything reachable from the global object, as the
// runtime does after InstallGlobals.
const deepFreeze = `(() => {
	const seen = new Set();
	const walk = (o) => {
		if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) return;
		seen.add(o);
		Object.freeze(o);
		for (const k of Reflect.ownKeys(o)) {
			const d = Object.getOwnPropertyDescriptor(o, k);
			if (d) { walk(d.value); walk(d.get); walk(d.set); }
		}
		walk(Object.getPrototypeOf(o));
	};
	walk(globalThis);
})()`

func TestGlobalsWorkFrozenAndKeepNoStateBetweenRuns(t *testing.T) {
	vm := goja.New()
	if err := InstallGlobals(vm); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.RunString(deepFreeze); err != nil {
		t.Fatal(err)
	}
	run := func(js string) (string, string) {
		res := &workflow.Result{}
		inv := New(context.Background(), vm, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)}, res)
		fn, err := vm.RunString(`(function (kinde, console) { "use strict"; ` + js + ` })`)
		if err != nil {
			t.Fatal(err)
		}
		call, _ := goja.AssertFunction(fn)
		v, err := call(goja.Undefined(), inv.Kinde(), inv.Console())
		if err != nil {
			return "", err.Error()
		}
		return v.String(), ""
	}
	tests := []struct{ name, js, want string }{
		{"URL works frozen", `const u = new URL("https://a.io/p?x=1"); u.searchParams.set("x", "2"); u.hash = "h"; return u.href`, "https://a.io/p?x=2#h"},
		{"URLSearchParams iterates frozen", `return [...new URLSearchParams("a=1&b=2").keys()].join()`, "a,b"},
		{"prototype cannot be patched", `try { URLSearchParams.prototype.toString = () => "evil"; return "patched" } catch (e) { return e.name }`, "TypeError"},
		{"iterator prototype cannot be patched", `const it = Object.getPrototypeOf(new URLSearchParams().keys());
			try { it.next = () => ({done: true}); return "patched" } catch (e) { return e.name }`, "TypeError"},
		{"next run unaffected", `return String(new URLSearchParams({a: "b"})) + [...new URLSearchParams("q=1").values()]`, "a=b1"},
		{"claims do not leak between runs", `kinde.accessToken.setCustomClaim("x", 1); return "ok"`, "ok"},
		{"fresh claims", `return JSON.stringify(kinde.accessToken.getCustomClaims())`, "{}"},
	}
	for _, tc := range tests {
		got, err := run(tc.js)
		if err != "" || got != tc.want {
			t.Errorf("%s: got %q (err %q), want %q", tc.name, got, err, tc.want)
		}
	}
}
