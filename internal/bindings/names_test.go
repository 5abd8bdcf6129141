package bindings

import (
	"context"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// hostNames lists every function reachable from the given roots (own
// properties, accessors and prototypes, strings and symbols) as
// "path=name".
const hostNames = `(function (roots) {
	const out = [], seen = new Set();
	const walk = (v, path) => {
		if ((typeof v !== "object" && typeof v !== "function") || v === null || seen.has(v)) return;
		seen.add(v);
		if (typeof v === "function") out.push(path + "=" + v.name);
		for (const k of Reflect.ownKeys(v)) {
			const d = Reflect.getOwnPropertyDescriptor(v, k);
			const p = path + "." + String(k);
			walk(d.value, p); walk(d.get, p + "<get>"); walk(d.set, p + "<set>");
		}
		walk(Object.getPrototypeOf(v), path + "<proto>");
	};
	for (const [name, v] of Object.entries(roots)) walk(v, name);
	return out;
})`

// No host function shows a Go name (host paths such as
// "github.com/…/bindings.(*Invocation).fetch-fm") as its JS name: every
// function reachable from kinde (every binding, every trigger), console,
// URL and URLSearchParams, with and without a Realm.
func TestHostFunctionNames(t *testing.T) {
	for _, withRealm := range []bool{false, true} {
		for _, trigger := range workflow.Triggers {
			vm := goja.New()
			if err := InstallGlobals(vm); err != nil {
				t.Fatal(err)
			}
			cfg := &Config{Settings: declare(trigger, workflow.Bindings...)}
			var inv *Invocation
			if withRealm {
				realm, err := NewRealm(vm)
				if err != nil {
					t.Fatal(err)
				}
				inv = realm.New(context.Background(), cfg, &workflow.Result{})
			} else {
				inv = New(context.Background(), vm, cfg, &workflow.Result{})
			}
			fn, err := vm.RunString(hostNames)
			if err != nil {
				t.Fatal(err)
			}
			call, _ := goja.AssertFunction(fn)
			roots := vm.NewObject()
			roots.Set("kinde", inv.Kinde())
			roots.Set("console", inv.Console())
			roots.Set("URL", vm.Get("URL"))
			roots.Set("URLSearchParams", vm.Get("URLSearchParams"))
			it, err := vm.RunString(`new URLSearchParams("a=1").keys()`)
			if err != nil {
				t.Fatal(err)
			}
			roots.Set("iterator", it)
			v, err := call(goja.Undefined(), roots)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			if err := vm.ExportTo(v, &names); err != nil {
				t.Fatal(err)
			}
			kindeFns := 0
			for _, n := range names {
				path, name, _ := strings.Cut(n, "=")
				if strings.Contains(name, "github.com") || strings.Contains(name, "(*") || strings.Contains(name, "/") ||
					strings.HasSuffix(name, "-fm") || name == "" && !strings.Contains(path, "<proto>") {
					t.Errorf("realm %v, %s: %s has JS name %q", withRealm, trigger, path, name)
				}
				if strings.HasPrefix(path, "kinde.") {
					kindeFns++
				}
			}
			if kindeFns == 0 {
				t.Errorf("realm %v, %s: no kinde functions walked", withRealm, trigger)
			}
		}
	}
}

// The names are the ones a workflow author expects.
func TestHostFunctionNamesAreTheMethodNames(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.Bindings...)})
	got := s.mustRun(t, `[kinde.fetch.name, kinde.secureFetch.name, kinde.cache.jwtToken.name, kinde.env.get.name,
		kinde.env.getEnvironmentVariable.name, kinde.accessToken.setCustomClaim.name, kinde.auth.denyAccess.name,
		console.log.name, URL.canParse.name, Object.getOwnPropertyDescriptor(URL.prototype, "href").get.name,
		new URLSearchParams().entries.name, URLSearchParams.prototype[Symbol.iterator].name].join()`)
	want := "fetch,secureFetch,jwtToken,get,getEnvironmentVariable,setCustomClaim,denyAccess,log,canParse,get href,entries,entries"
	if got != want {
		t.Errorf("names = %q, want %q", got, want)
	}
}
