package runtime

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Each bomb must end as a failed Result with a clear error, and the test
// process must survive it.
func TestLimits(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"infinite loop", `for (;;) {}`, "execution time exceeded"},
		{"infinite loop after await", `await null; while (true) {}`, "execution time exceeded"},
		{"never settling promise", `await new Promise(() => {})`, "never settled"},
		{"deep recursion", `function f(n) { return f(n + 1) + 1 } f(0)`, "maximum call stack size exceeded"},
		{"catastrophic regexp", `/^(a+)+$(?!x)/.test("a".repeat(40) + "!"); for (;;) {}`, "execution time exceeded"},
		{"string doubling", `let s = "x"; for (;;) s += s`, "memory limit exceeded"},
		{"string concat loop", `let s = ""; const c = "y".repeat(1 << 16); for (;;) s = s + c + ""`, "memory limit exceeded"},
		{"repeat 2**30", `"x".repeat(2 ** 30)`, "memory limit exceeded"},
		{"padEnd huge", `"x".padEnd(2 ** 31)`, "memory limit exceeded"},
		{"new Array(1e9).fill", `new Array(1e9).fill(0)`, "memory limit exceeded"},
		{"sparse spread", `Math.max(...new Array(1e9))`, "memory limit exceeded"},
		{"sparse join", `new Array(1e9).join("x")`, "memory limit exceeded"},
		{"array-like from", `Array.from({length: 2 ** 32 - 1})`, "memory limit exceeded"},
		{"apply huge array-like", `String.fromCharCode.apply(null, {length: 1e9})`, "memory limit exceeded"},
		{"push loop", `const a = []; for (;;) a.push({i: a.length})`, "memory limit exceeded"},
		{"object growth", `const o = {}; for (let i = 0;; i++) o["k" + i] = i`, "memory limit exceeded"},
		{"huge ArrayBuffer", `new ArrayBuffer(2 ** 40)`, "memory limit exceeded"},
		{"huge typed array", `new Float64Array(2 ** 31)`, "memory limit exceeded"},
		{"typed array loop", `const k = []; for (;;) k.push(new Uint8Array(1 << 20))`, "memory limit exceeded"},
		{"JSON.stringify aliases", `const big = "x".repeat(1 << 20); JSON.stringify(new Array(1 << 19).fill(big))`, "memory limit exceeded"},
		{"join aliases", `const big = "x".repeat(1 << 20); new Array(1 << 19).fill(big).join()`, "memory limit exceeded"},
		{"replace amplification", `"x".repeat(1 << 20).replace(/x/g, "y".repeat(1 << 10))`, "memory limit exceeded"},
		{"JSON.stringify of a huge object", `const o = {}; for (let i = 0; i < 3e5; i++) o[i] = "v".repeat(100) + i; JSON.stringify(o, null, 2)`, "memory limit exceeded"},
	}
	timeEngine := New(Options{Limits: testLimits()})
	// Every bomb but the loops gets a wall time no machine load reaches:
	// only the guard under test may end it.
	memEngine := New(Options{Limits: Limits{WallTime: 2 * time.Minute, MemoryBytes: 16 << 20}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := timeEngine
			if !strings.Contains(tt.want, "execution time") {
				e = memEngine
			}
			p := load(t, e, handler(tt.body))
			r := run(t, e, p, `{}`)
			wantFailed(t, r, tt.want)
			// The engine still works afterwards.
			ok := load(t, e, handler(`kinde.accessToken.setCustomClaim("ok", 1)`))
			wantSucceeded(t, run(t, e, ok, `{}`))
		})
	}
}

// Nothing one invocation does is visible to the next one on the same
// pooled runtime.
func TestIsolationAcrossInvocations(t *testing.T) {
	tests := []struct {
		name, attack, probe string
	}{
		{"Object.prototype pollution", `Object.prototype.x = 1; Object.defineProperty(Object.prototype, "y", {value: 1})`, `({}).x === undefined && ({}).y === undefined`},
		{"Array.prototype.push replaced", `Array.prototype.push = function () { return -1 }`, `[].push(1) === 1`},
		{"JSON.parse replaced", `JSON.parse = () => "pwned"`, `JSON.parse("1") === 1`},
		{"globalThis property", `globalThis.foo = "leak"; this.bar = 1`, `typeof foo === "undefined" && globalThis.bar === undefined`},
		{"sloppy global", `leaked = 1`, `typeof leaked === "undefined"`},
		{"indirect eval var", `(0, eval)("var evalLeak = 1")`, `typeof evalLeak === "undefined"`},
		{"Function constructor global", `Function("this.fnLeak = 1")()`, `typeof fnLeak === "undefined"`},
		{"kinde binding replaced", `kinde.accessToken = {setCustomClaim() {}}; kinde.accessToken2 = 1`, `kinde.accessToken2 === undefined && typeof kinde.accessToken.getCustomClaims === "function"`},
		{"console replaced", `console.log = () => { throw 1 }`, `(console.log("x"), true)`},
		{"require mutated", `try { require.cache = 1 } catch (e) {} `, `typeof require.cache === "undefined"`},
		{"hidden iterator prototype", `Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({done: true})`, `[...[1, 2]].length === 2`},
		{"generator prototype", `Object.getPrototypeOf(function* () {}).prototype.x = 1`, `(function* () {})().x === undefined`},
		{"Promise.prototype.then", `Promise.prototype.then = function () {}`, `Promise.prototype.then.toString().includes("native")`},
		{"URLSearchParams patched", `URLSearchParams.prototype.toString = () => "pwned"`, `new URLSearchParams("a=1").toString() === "a=1"`},
		{"Error.prototype.message", `Error.prototype.message = "pwned"`, `new Error().message === ""`},
		{"Math.random replaced", `Math.random = () => 4`, `Math.random() < 1`},
		{"Symbol.for entry readable", `Symbol.for("secret").description`, `Symbol.keyFor(Symbol.iterator) === undefined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{Limits: Limits{PoolSize: 1}})
			code := `var counter = 0;
module.exports.default = async function (event) {
  counter++;
  if (event.attack) { try { (function () { ` + tt.attack + ` })(); } catch (e) {} return; }
  kinde.accessToken.setCustomClaim("ok", !!(` + tt.probe + `));
  kinde.accessToken.setCustomClaim("counter", counter);
};`
			p := load(t, e, code)
			wantSucceeded(t, run(t, e, p, `{"attack": true}`))
			r := run(t, e, p, `{}`)
			wantSucceeded(t, r)
			if claim(r, "ok") != true {
				t.Fatalf("attack visible in the next invocation: %+v", r.AccessToken)
			}
			if c := claim(r, "counter"); c != float64(1) {
				t.Fatalf("module state shared: counter = %v", c)
			}
			if len(p.pool) != 1 {
				t.Fatalf("runtime was not pooled (pool has %d)", len(p.pool))
			}
		})
	}
}

// Probes for host access: none may reach anything beyond the language.
func TestNoHostAccess(t *testing.T) {
	tests := []struct{ name, expr, want string }{
		{"process", `typeof process`, "undefined"},
		{"require", `(() => { try { require("child_process"); return "loaded" } catch (e) { return "threw" } })()`, "threw"},
		{"Function this", `Function("return this")() === globalThis`, "true"},
		{"constructor chain", `(function(){}).constructor("return typeof process")()`, "undefined"},
		// eval is a guarded replacement, so every eval is indirect (global scope).
		{"eval", `eval("typeof require")`, "undefined"},
		// kinde and console are globals as on Kinde's runtime (this run's own: current.go).
		{"global eval", `(0, eval)("typeof require + typeof module + (globalThis.kinde === kinde) + typeof console")`, "undefinedundefinedtrueobject"},
		{"global names", `Object.getOwnPropertyNames(globalThis).filter(n => !/^(Object|Function|Array|String|Number|BigInt|RegExp|Date|Boolean|Proxy|Reflect|Error|AggregateError|TypeError|ReferenceError|SyntaxError|RangeError|EvalError|URIError|eval|Math|JSON|ArrayBuffer|DataView|(Big)?(Ui|I)nt(8|16|32|64)(Clamped)?Array|Float(32|64)Array|Symbol|WeakSet|WeakMap|Map|Set|Promise|globalThis|NaN|undefined|Infinity|isNaN|parseInt|parseFloat|isFinite|(de|en)codeURI(Component)?|escape|unescape|URL|URLSearchParams|GoError|kinde|console|%spreadSource)$/.test(n)).join()`, ""},
		// The object spread guard (spread.go): a frozen check that returns its
		// argument or throws; its name cannot be written as an identifier.
		{"spread guard is inert", `(() => { const g = globalThis["%spreadSource"]; return [g("ab"), Object.isFrozen(g), Object.getOwnPropertyDescriptor(globalThis, "%spreadSource").writable].join() })()`, "ab,true,false"},
		{"GoError is inert", `(() => { try { return String(new GoError("x")) } catch (e) { return "threw" } })()`, ""},
		{"global frozen", `Object.isFrozen(globalThis) && Object.isFrozen(Object.prototype) && Object.isFrozen(Array.prototype)`, "true"},
		{"setTimeout absent", `typeof setTimeout + typeof queueMicrotask`, "undefinedundefined"},
	}
	e := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, e, handler(`kinde.accessToken.setCustomClaim("v", String(`+tt.expr+`))`))
			r := run(t, e, p, `{}`)
			wantSucceeded(t, r)
			if tt.name == "GoError is inert" {
				return // only that it does not escape the sandbox
			}
			if got := claim(r, "v"); got != tt.want {
				t.Fatalf("%s = %v; want %q", tt.expr, got, tt.want)
			}
		})
	}
}

func TestDynamicImportRejected(t *testing.T) {
	e := New(Options{})
	p, err := e.Load([]byte(handler(`await import("fs")`)), nil)
	if err != nil {
		return // a compile error is fine
	}
	wantFailed(t, run(t, e, p, `{}`), "")
}

// Many goroutines share one program; run with -race.
func TestConcurrentInvocations(t *testing.T) {
	e := New(Options{Limits: Limits{PoolSize: 4}})
	p := load(t, e, `var n = 0;
module.exports.default = async function (event) {
  n++;
  await null;
  kinde.accessToken.setCustomClaim("who", event.who);
  kinde.accessToken.setCustomClaim("n", n);
  console.log("run", event.who);
};`)
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				who := fmt.Sprintf("g%d-%d", g, i)
				r := e.Run(context.Background(), Invocation{Program: p, Settings: settings(), Event: []byte(`{"who":"` + who + `"}`)})
				if r.Status != "succeeded" || claim(r, "who") != who || claim(r, "n") != float64(1) ||
					len(r.Logs) != 1 || !strings.HasSuffix(r.Logs[0].Message, who) {
					errs <- fmt.Sprintf("%s: %+v %+v", who, r, r.AccessToken)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
