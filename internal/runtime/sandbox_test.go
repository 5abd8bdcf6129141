package runtime

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Issue 6.1: Alice's run leaves nothing Bob's run can read, even through
// what module scope reaches (arguments.callee was the shared wrapper).
func TestAliceThenBob(t *testing.T) {
	attacks := []struct{ name, grab string }{
		{"arguments.callee", `arguments.callee`},
		{"sloppy caller", `new Function("return (function f() { return f.caller })()")()`},
		{"wrapper prototype", `arguments.callee.prototype`},
		{"arguments iterator", `(function () { return arguments })()[Symbol.iterator]`},
		{"require", `require`},
		{"Proxy", `Proxy`},
		{"Function constructor", `Function`},
		// Accessors setup.js installs, and
		// builtins held by non-configurable properties, were never frozen.
		{"tamed getter", `Object.getOwnPropertyDescriptor(Object.prototype, "valueOf").get`},
		{"tamed setter", `Object.getOwnPropertyDescriptor(Object.prototype, "valueOf").set`},
		{"tamed Error getter", `Object.getOwnPropertyDescriptor(Error.prototype, "message").get`},
		{"Symbol.hasInstance", `Function.prototype[Symbol.hasInstance]`},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			e := New(Options{Limits: Limits{PoolSize: 1}})
			defer e.Close()
			code := `let W; try { W = ` + a.grab + ` } catch (e) {}
module.exports.default = async function (event) {
  if (W && (typeof W === "object" || typeof W === "function")) {
    try { if (W.stash) kinde.accessToken.setCustomClaim("leak", W.stash); } catch (e) {}
    try { W.stash = event.user; } catch (e) {}
  }
  kinde.accessToken.setCustomClaim("user", event.user);
};`
			p := load(t, e, code)
			wantSucceeded(t, run(t, e, p, `{"user": "alice"}`))
			r := run(t, e, p, `{"user": "bob"}`)
			wantSucceeded(t, r)
			if l := claim(r, "leak"); l != nil {
				t.Fatalf("Bob's run read %v from Alice's", l)
			}
			if len(p.pool) != 1 {
				t.Fatalf("the runtime was not reused (pool %d): the test proves nothing", len(p.pool))
			}
		})
	}
}

// TestEverythingReachableIsFrozen walks every object reachable from the
// global object — prototypes, property values, getters and setters — and
// finds none that could carry data from one invocation to the next.
func TestEverythingReachableIsFrozen(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	p := load(t, e, `module.exports.default = async function () {
  const seen = new Set(), open = [];
  let getters = 0;
  const stack = [globalThis, Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {})];
  while (stack.length > 0 && seen.size < 100000) {
    const o = stack.pop();
    if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) continue;
    seen.add(o);
    // This run's own objects (globalThis.kinde and globalThis.console
    // return them only while it runs; TestGlobalKindeIsPerInvocation).
    if (o === kinde || o === console) continue;
    if (!Object.isFrozen(o) || Object.isExtensible(o)) open.push(String(o && o.name || typeof o));
    stack.push(Object.getPrototypeOf(o));
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (!d) continue;
      stack.push(d.value, d.get, d.set);
      // What a getter hands out is reachable too (setup.js's tamed
      // accessors return the wrapped builtin they hold).
      if (typeof d.get === "function") {
        try { stack.push(Reflect.apply(d.get, o, [])); getters++; } catch (e) {}
      }
    }
  }
  kinde.accessToken.setCustomClaim("open", open.length);
  kinde.accessToken.setCustomClaim("sample", open.slice(0, 5).join(","));
  kinde.accessToken.setCustomClaim("seen", seen.size);
  kinde.accessToken.setCustomClaim("getters", getters);
};`)
	r := run(t, e, p, `{}`)
	wantSucceeded(t, r)
	if n, _ := claim(r, "getters").(float64); n < 17 {
		t.Fatalf("the walk read %v getters; the tamed accessors alone are more", n)
	}
	if n := claim(r, "open"); n != float64(0) {
		t.Fatalf("%v reachable objects are not frozen (e.g. %v) of %v", n, claim(r, "sample"), claim(r, "seen"))
	}
}

func TestBundleIsStrict(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	p := load(t, e, handler(`kinde.accessToken.setCustomClaim("strict", (function () { return this === undefined })());
let callee = "none"; try { arguments.callee } catch (e) { callee = e.name }
kinde.accessToken.setCustomClaim("callee", callee);`))
	r := run(t, e, p, `{}`)
	wantSucceeded(t, r)
	if claim(r, "strict") != true || claim(r, "callee") != "TypeError" {
		t.Fatalf("claims %+v; want strict code", r.AccessToken)
	}
	// A sloppy-only construct does not compile.
	if _, err := e.Load([]byte(`with ({}) {}`), nil); err == nil || KindOf(err) != workflow.KindLoad {
		t.Fatalf("with statement: %v (kind %q); want a load error", err, KindOf(err))
	}
}

// Issue 6.12: an idle pooled runtime holds nothing of its last run.
func TestIdleRuntimeForgetsInvocation(t *testing.T) {
	e := New(Options{Limits: Limits{PoolSize: 1}})
	defer e.Close()
	p := load(t, e, `module.exports.default = async function (event) {
  kinde.accessToken.setCustomClaim("k", kinde.env.get("SECRET").value);
};`)
	s := settings()
	s.Bindings["kinde.env"] = workflow.BindingSettings{}
	r := e.Run(context.Background(), Invocation{Program: p, Settings: s, Event: []byte(`{"user": "alice"}`),
		Bindings: &bindings.Config{Env: map[string]bindings.EnvVar{"SECRET": {Value: "sk_live_123456", IsSecret: true}},
			EncryptionKey: make([]byte, 32)}})
	wantSucceeded(t, r)
	sl := <-p.pool
	defer func() { p.pool <- sl }()
	if cur := reflect.ValueOf(sl.realm).Elem().FieldByName("cur"); !cur.IsNil() {
		t.Fatal("the idle runtime's realm still holds the last invocation (env, key, event)")
	}
	if sl.cur.Load() != nil || sl.stopped() != nil {
		t.Fatal("the idle runtime still holds the last run's context")
	}
}

// Issue 7.2: every failed Result has a kind, from types, on both paths.
func TestErrorKinds(t *testing.T) {
	e := New(Options{Limits: Limits{WallTime: time.Second, MemoryBytes: 16 << 20, MaxResultBytes: 4096}})
	defer e.Close()
	// Every kind but timeout runs with a wall time no machine load reaches,
	// so only the guard under test can end it.
	patient := New(Options{Limits: Limits{WallTime: 2 * time.Minute, MemoryBytes: 16 << 20, MaxResultBytes: 4096}})
	defer patient.Close()
	tests := []struct {
		name, body string
		kind       workflow.ErrorKind
	}{
		{"throw", `throw new Error("boom")`, workflow.KindThrown},
		{"throw a string", `throw "boom"`, workflow.KindThrown},
		{"rejection", `await Promise.reject(new TypeError("no"))`, workflow.KindThrown},
		{"loop", `for (;;) {}`, workflow.KindTimeout},
		{"native loop", `const a = Array(1 << 16).fill(0); for (;;) a.forEach(Math.abs)`, workflow.KindTimeout},
		{"memory", `const k = []; for (;;) k.push(new Uint8Array(1 << 20))`, workflow.KindMemory},
		{"guard caught and rethrown", `try { "x".repeat(2 ** 30) } catch (e) { throw e }`, workflow.KindMemory},
		{"guard message is not the kind", `throw new RangeError("memory limit exceeded: fake")`, workflow.KindThrown},
		{"recursion", `function f() { return f() + 1 } f()`, workflow.KindCallDepth},
		{"native recursion", `const e = {}; e.name = e; e.toString = Error.prototype.toString; String(e)`, workflow.KindCallDepth},
		{"never settles", `await new Promise(() => {})`, workflow.KindNeverSettled},
		{"result too large", `kinde.accessToken.setCustomClaim("big", "x".repeat(8000))`, workflow.KindResultTooLarge},
		{"binding refusal", `kinde.accessToken.setCustomClaim()`, workflow.KindBinding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e
			if tt.kind != workflow.KindTimeout {
				e = patient
			}
			r := run(t, e, load(t, e, handler(tt.body)), `{}`)
			if r.Status != workflow.StatusFailed || r.Error == nil || r.Error.Kind != tt.kind {
				t.Fatalf("status %q error %+v; want kind %q", r.Status, r.Error, tt.kind)
			}
		})
	}
	t.Run("no default export", func(t *testing.T) {
		r := run(t, patient, load(t, patient, `module.exports = {}`), `{}`)
		if r.Error == nil || r.Error.Kind != workflow.KindLoad {
			t.Fatalf("error %+v; want kind load", r.Error)
		}
	})
	t.Run("syntax error", func(t *testing.T) {
		_, err := patient.Load([]byte(`let = = 1`), nil)
		if KindOf(err) != workflow.KindLoad {
			t.Fatalf("Load: %v, kind %q; want load", err, KindOf(err))
		}
	})
	t.Run("closed engine", func(t *testing.T) {
		e2 := New(Options{})
		p := load(t, e2, handler(``))
		e2.Close()
		r := run(t, e2, p, `{}`)
		if r.Error == nil || r.Error.Kind != workflow.KindInternal {
			t.Fatalf("error %+v; want kind internal", r.Error)
		}
	})
	inspect := []struct {
		name, code string
		kind       workflow.ErrorKind
	}{
		{"throw", `throw new Error("x")`, workflow.KindThrown},
		{"loop", `for (;;) {}`, workflow.KindTimeout},
		{"memory guard", `new ArrayBuffer(2 ** 40)`, workflow.KindMemory},
		{"recursion", `function f() { return f() } f()`, workflow.KindCallDepth},
		{"proxy cycle", `const t = {}, p = new Proxy(t, {}); Object.setPrototypeOf(t, p); p.foo`, workflow.KindThrown},
		{"syntax", `let = = 1`, workflow.KindLoad},
	}
	for _, tt := range inspect {
		t.Run("Inspect "+tt.name, func(t *testing.T) {
			e := e
			if tt.kind != workflow.KindTimeout {
				e = patient
			}
			err := e.Inspect(context.Background(), []byte(tt.code), func(*goja.Runtime, goja.Value) error { return nil })
			if KindOf(err) != tt.kind {
				t.Fatalf("Inspect: %v, kind %q; want %q", err, KindOf(err), tt.kind)
			}
			var re *Error
			if tt.kind != workflow.KindLoad && !errors.As(err, &re) {
				t.Fatalf("Inspect: %T; want a *runtime.Error", err)
			}
		})
	}
}

// Issue 6.10: redaction happens before the cut, so no part of a secret
// survives at the edge of a truncated message or thrown value.
func TestRedactBeforeCut(t *testing.T) {
	const secret = "sk_live_SECRETVALUE_0123456789"
	e := New(Options{})
	defer e.Close()
	s := settings()
	s.Bindings["kinde.env"] = workflow.BindingSettings{}
	cfg := &bindings.Config{Env: map[string]bindings.EnvVar{"S": {Value: secret, IsSecret: true}}}
	for _, pad := range []int{4080, 4085, 4090, 1000, 1005, 1010} {
		for _, body := range []string{
			`throw new Error("x".repeat(PAD) + kinde.env.get("S").value)`,
			`throw {a: "x".repeat(PAD) + kinde.env.get("S").value}`,
			`throw "x".repeat(PAD) + kinde.env.get("S").value`,
		} {
			body = strings.ReplaceAll(body, "PAD", itoa(int64(pad)))
			p := load(t, e, handler(body))
			r := e.Run(context.Background(), Invocation{Program: p, Settings: s, Event: []byte(`{}`), Bindings: cfg})
			if r.Error == nil {
				t.Fatalf("%s: no error", body)
			}
			for _, text := range []string{r.Error.Message, r.Error.Stack} {
				if strings.Contains(text, secret[:8]) {
					t.Fatalf("%s: part of the secret survives: …%s", body, text[max(0, len(text)-60):])
				}
			}
			if len(r.Error.Message) > maxMessage+8 {
				t.Fatalf("%s: message of %d bytes", body, len(r.Error.Message))
			}
		}
	}
}

// Issue 6.11: require throws a plain TypeError with no Go value behind it.
func TestRequireTypeError(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	p := load(t, e, handler(`let r = "none";
try { require("fs") } catch (e) { r = [e instanceof TypeError, e.value === undefined, e.constructor === TypeError].join() }
kinde.accessToken.setCustomClaim("r", r);`))
	r := run(t, e, p, `{}`)
	wantSucceeded(t, r)
	if claim(r, "r") != "true,true,true" {
		t.Fatalf("require threw %v; want a plain TypeError", claim(r, "r"))
	}
}

// Issue 6.12: idle runtimes are capped over all programs; Close drops them.
func TestIdleRuntimeCap(t *testing.T) {
	e := New(Options{Limits: Limits{PoolSize: 2, MaxIdleRuntimes: 3}})
	for i := 0; i < 4; i++ {
		p := load(t, e, handler(`kinde.accessToken.setCustomClaim("i", `+itoa(int64(i))+`)`))
		for j := 0; j < 2; j++ {
			wantSucceeded(t, run(t, e, p, `{}`))
		}
	}
	if n := e.idle.Load(); n > 3 || n < 1 {
		t.Fatalf("%d idle runtimes; want at most 3", n)
	}
	e.Close()
	if n := e.idle.Load(); n != 0 {
		t.Fatalf("%d idle runtimes after Close", n)
	}
}

// Issue 6.12: one Governor serves every engine of the process.
func TestSharedGovernor(t *testing.T) {
	gov := NewGovernor(0)
	defer gov.Close()
	a := New(Options{Governor: gov, Limits: Limits{WallTime: 2 * time.Minute, MemoryBytes: 16 << 20}})
	b := New(Options{Governor: gov})
	defer a.Close()
	defer b.Close()
	if a.gov != b.gov || a.ownGov || b.ownGov {
		t.Fatal("engines do not share the governor passed in")
	}
	r := run(t, a, load(t, a, handler(`const k = []; for (;;) k.push(new Uint8Array(1 << 20))`)), `{}`)
	if r.Error == nil || r.Error.Kind != workflow.KindMemory {
		t.Fatalf("error %+v; want kind memory", r.Error)
	}
	wantSucceeded(t, run(t, b, load(t, b, handler(``)), `{}`))
}

// Issue 6.12: importing the package changes nothing process-wide; the
// regexp timeout is set when the first engine is made.
func TestNoInitSideEffects(t *testing.T) {
	if os.Getenv("FLOWGATE_INIT_CHILD") == "1" {
		if regexp2.DefaultMatchTimeout != time.Duration(math.MaxInt64) {
			t.Fatalf("regexp2.DefaultMatchTimeout = %v before any Engine", regexp2.DefaultMatchTimeout)
		}
		New(Options{}).Close()
		if regexp2.DefaultMatchTimeout != RegexpTimeout {
			t.Fatalf("regexp2.DefaultMatchTimeout = %v after New", regexp2.DefaultMatchTimeout)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoInitSideEffects$")
	cmd.Env = append(os.Environ(), "FLOWGATE_INIT_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// Issue 7.5: logged errors are source-mapped; a failure after reading an
// undeclared binding says how to declare it.
func TestErrorsPointAtUserCode(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	code, smap := build(t, `export default async function handle(event: any) {
  try {
    throw new Error("caught");
  } catch (err) {
    console.error("error", err);
  }
}
`)
	p, err := e.Load(code, smap)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, e, p, `{}`)
	wantSucceeded(t, r)
	if len(r.Logs) != 1 || !strings.Contains(r.Logs[0].Message, "claimsWorkflow.ts:3:") || strings.Contains(r.Logs[0].Message, bundleName) {
		t.Fatalf("logs %+v; want the stack in claimsWorkflow.ts", r.Logs)
	}

	p = load(t, e, handler(`await kinde.fetch("https://example.com")`))
	r = run(t, e, p, `{}`)
	if r.Error == nil || !strings.Contains(r.Error.Message, `"kinde.fetch": {}`) || r.Error.Kind != workflow.KindBinding {
		t.Fatalf("error %+v; want it to say how to declare kinde.fetch", r.Error)
	}
}

// Reading a thrown value after Inspect returned (the sync engine formats
// diagnostics) runs no more workflow code: a getter that never returns
// is stopped at once.
func TestInspectValueReadAfterRun(t *testing.T) {
	e := New(Options{Limits: Limits{WallTime: 200 * time.Millisecond}})
	defer e.Close()
	err := e.Inspect(context.Background(), []byte(`throw { get message() { for (;;) {} }, toString() { for (;;) {} } }`),
		func(*goja.Runtime, goja.Value) error { return nil })
	var ex *goja.Exception
	if !errors.As(err, &ex) {
		t.Fatalf("Inspect: %v; want the exception", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		o := ex.Value().(*goja.Object)
		_ = o.Get("message")
		_ = o.String()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading the thrown value after Inspect ran the workflow's endless getter")
	}
}

// The guarded replacements (setup.js, native.go) behave like the builtins
// they replace.
func TestGuardedBuiltinsBehave(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	probes := []string{
		`(() => { const re = /a/g; return RegExp(re) === re && re.constructor === RegExp && new RegExp(re, "i").flags === "i" })()`,
		`RegExp("a+", "g") instanceof RegExp && RegExp.name === "RegExp" && "aab".replace(new RegExp("a", "g"), "x") === "xxb"`,
		`new Function("a", "b", "return a + b")(1, 2) === 3 && Function("return 1")() === 1 && (() => {}).constructor === Function`,
		`(function () {}) instanceof Function && Function.prototype.constructor === Function && Function.name === "Function"`,
		`new Proxy({}, {get: () => 7}).x === 7 && typeof Proxy === "function" && Proxy.name === "Proxy" && Proxy.prototype === undefined`,
		`(() => { try { Proxy({}, {}); return false } catch (e) { return e instanceof TypeError } })()`,
		`Proxy.revocable({}, {}).proxy !== undefined`,
		`new Uint8Array(4).length === 4 && new ArrayBuffer("8").byteLength === 8 && new Uint8Array([1, 2]).length === 2`,
		`Array.prototype.map.name === "map" && Array.prototype.map.length === 1 && String(Array.prototype.map).includes("native code")`,
		`Array.prototype.values === Array.prototype[Symbol.iterator] && [1, 2].map(x => x * 2).join() === "2,4"`,
		`JSON.stringify({b: 1, a: [1, {c: 2}]}, ["a", "c"]) === '{"a":[1,{"c":2}]}' && JSON.stringify([1, [2]], null, 1) === "[\n 1,\n [\n  2\n ]\n]"`,
		`JSON.parse('{"a":[1,2,{"b":null}]}').a[2].b === null && eval("1 + 1") === 2`,
		`(() => { const o = {}; Object.setPrototypeOf(o, Array.prototype); return o instanceof Array && Object.create(o) instanceof Array })()`,
		`(() => { const f = function () { return this.v }.bind({v: 3}); return f() === 3 && f.name === "bound " })()`,
		`encodeURIComponent("é a") === "%C3%A9%20a" && "a,b".split(",").length === 2 && [..."héllo"].length === 5`,
		`BigInt.asUintN(8, 257n) === 1n && [[1, [2]], 3].flat(Infinity).length === 3 && [1].concat([2], 3).length === 3`,
	}
	for i, probe := range probes {
		p := load(t, e, handler(`kinde.accessToken.setCustomClaim("ok", !!(`+probe+`))`))
		r := run(t, e, p, `{}`)
		if r.Status != workflow.StatusSucceeded || claim(r, "ok") != true {
			t.Errorf("probe %d: %s: %+v %+v", i, probe, r.Error, r.AccessToken)
		}
	}
}

// Builtins that make one value per character of a string, natively, would
// run seconds past the wall time and gigabytes past the budget on a 16 M
// character string: they fail as memory; ordinary uses still work.
func TestStringAsArrayBounded(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	const big = `"x".repeat(16 * 1024 * 1024 - 16)`
	for _, js := range []string{
		`Object.keys(` + big + `)`,
		`Object.values(` + big + `)`,
		`Object.entries(` + big + `)`,
		`Object.getOwnPropertyNames(` + big + `)`,
		`Object.getOwnPropertyDescriptors(` + big + `)`,
		`Object.assign({}, ` + big + `)`,
		`Reflect.ownKeys(new String(` + big + `))`,
		`String.raw({raw: {length: 2 ** 31}}, "x")`,
	} {
		t.Run(js, func(t *testing.T) {
			p := load(t, e, `module.exports.default = async function () { `+js+`; };`)
			r := run(t, e, p, `{}`)
			if r.Error == nil || r.Error.Kind != workflow.KindMemory {
				t.Fatalf("got %+v", r.Error)
			}
		})
	}
	p := load(t, e, `module.exports.default = async function () {
  const n = Object.keys({a: 1, b: 2}).length + Object.assign({}, {c: 3}, "ab")[1].length +
    Reflect.ownKeys(new String("abc")).length + String.raw`+"`a${1}b`"+`.length;
  kinde.accessToken.setCustomClaim("n", n);
};`)
	r := run(t, e, p, `{}`)
	wantSucceeded(t, r)
	if n := claim(r, "n"); n != float64(2+1+4+3) {
		t.Fatalf("ordinary uses: n = %v", n)
	}
}
