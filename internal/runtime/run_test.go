package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

func TestRunShapes(t *testing.T) {
	tests := []struct {
		name  string
		code  string
		event string
		want  any
	}{
		{"async default", handler(`kinde.accessToken.setCustomClaim("v", event.context.user.id)`), `{"context":{"user":{"id":"u1"}}}`, "u1"},
		{"sync default", `module.exports.default = function (e) { kinde.accessToken.setCustomClaim("v", e.n + 1); return 3 }`, `{"n": 41}`, float64(42)},
		{"handle object", `module.exports = { default: { async handle(e) { kinde.accessToken.setCustomClaim("v", this === module.exports.default) } } }`, `{}`, true},
		{"module.exports function", `module.exports = async (e) => kinde.accessToken.setCustomClaim("v", Array.isArray(e.a))`, `{"a":[1,2]}`, true},
		{"awaited chain", handler(`const x = await Promise.all([1, Promise.resolve(2)]); await null; kinde.accessToken.setCustomClaim("v", x.join("+"))`), ``, "1+2"},
		{"event key order and proto key", handler(`kinde.accessToken.setCustomClaim("v", Object.keys(event).join() + "|" + (Object.getPrototypeOf(event) === Object.prototype))`), `{"b":1,"a":2,"__proto__":{"x":1}}`, "b,a,__proto__|true"},
		{"event is plain JSON", handler(`kinde.accessToken.setCustomClaim("v", JSON.stringify(event))`), `{"a":[1,{"b":null}],"c":1.5,"d":true}`, `{"a":[1,{"b":null}],"c":1.5,"d":true}`},
		{"error subclass sets name", handler(`class MyError extends Error { constructor(m) { super(m); this.name = "MyError" } }
			const e = new MyError("x"); kinde.accessToken.setCustomClaim("v", String(e))`), `{}`, "MyError: x"},
		{"override toString on instance", handler(`"use strict"; const o = {}; o.toString = () => "mine"; kinde.accessToken.setCustomClaim("v", String(o))`), `{}`, "mine"},
		{"URLSearchParams global", handler(`kinde.accessToken.setCustomClaim("v", new URLSearchParams({a: "1 2"}).toString())`), `{}`, "a=1+2"},
		{"typed arrays still work", handler(`const b = new Uint8Array([1,2,3]); kinde.accessToken.setCustomClaim("v", b.map(x => x * 2).join() + (b instanceof Uint8Array) + (b.constructor === Uint8Array))`), `{}`, "2,4,6truetrue"},
	}
	e := New(Options{Limits: testLimits()})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, e, tt.code)
			r := run(t, e, p, tt.event)
			wantSucceeded(t, r)
			if got := claim(r, "v"); got != tt.want {
				t.Fatalf("claim v = %#v (%T); want %#v", got, got, tt.want)
			}
			if r.WorkflowID != "wf" || r.Trigger != workflow.UserTokenGeneration || r.FailurePolicy != "stop" {
				t.Fatalf("result header %+v", r)
			}
		})
	}
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name, code, event, want string
	}{
		{"throw Error", handler(`throw new TypeError("bad claim")`), `{}`, "TypeError: bad claim"},
		{"throw string", handler(`throw "plain string"`), `{}`, "uncaught plain string"},
		{"throw object", handler(`throw {code: 7}`), `{}`, `uncaught {"code":7}`},
		{"throw undefined", handler(`throw undefined`), `{}`, "uncaught undefined"},
		{"reject later", handler(`await null; return Promise.reject(new Error("later"))`), `{}`, "Error: later"},
		{"sync throw", `module.exports.default = function () { null.x }`, `{}`, "TypeError"},
		{"top-level throw", `throw new Error("at load")`, `{}`, "Error: at load"},
		{"no default export", `module.exports.workflowSettings = {id: "x"}`, `{}`, "no default export"},
		{"bad default export", `module.exports.default = 42`, `{}`, "not a function"},
		{"require unavailable", `require("fs"); module.exports.default = () => 1`, `{}`, `require("fs") is not available`},
		{"bad event JSON", handler(``), `{"a":`, "event JSON"},
		{"event not one value", handler(``), `{} {}`, "unexpected data"},
		{"undeclared binding", handler(`kinde.idToken.setCustomClaim("a", 1)`), `{}`, "TypeError"},
	}
	e := New(Options{Limits: testLimits()})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, e, tt.code)
			r := run(t, e, p, tt.event)
			wantFailed(t, r, tt.want)
		})
	}
}

func TestFailurePolicyCopied(t *testing.T) {
	e := New(Options{})
	p := load(t, e, handler(`throw new Error("x")`))
	s := settings()
	s.FailurePolicy.Action = "continue"
	r := e.Run(context.Background(), Invocation{Program: p, Settings: s})
	if r.Status != workflow.StatusFailed || r.FailurePolicy != "continue" {
		t.Fatalf("got %+v", r)
	}
}

func TestErrorMessageRedacted(t *testing.T) {
	e := New(Options{})
	p := load(t, e, handler(`throw new Error("password is " + event.context.auth.password)`))
	r := e.Run(context.Background(), Invocation{Program: p, Settings: settings(),
		Event:    []byte(`{"context":{"auth":{"password":"hunter2-secret"}}}`),
		Bindings: &bindings.Config{Redact: []string{"hunter2-secret"}}})
	wantFailed(t, r, "password is")
	if strings.Contains(r.Error.Message, "hunter2") || strings.Contains(r.Error.Stack, "hunter2") {
		t.Fatalf("secret leaked: %+v", r.Error)
	}
}

func TestCancelledContext(t *testing.T) {
	e := New(Options{})
	p := load(t, e, handler(``))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := e.Run(ctx, Invocation{Program: p, Settings: settings()})
	wantFailed(t, r, "cancelled")
}

func TestLoadCache(t *testing.T) {
	e := New(Options{Limits: Limits{MaxPrograms: 2}})
	a1 := load(t, e, handler(`1`))
	a2 := load(t, e, handler(`1`))
	if a1 != a2 {
		t.Fatal("same bundle compiled twice")
	}
	load(t, e, handler(`2`))
	load(t, e, handler(`3`))
	if a3 := load(t, e, handler(`1`)); a3 == a1 {
		t.Fatal("LRU kept more than MaxPrograms programs")
	}
}

// TestLoadCacheEvictsLeastRecentlyUsed: loading a cached program again
// keeps it; the program evicted is the one used longest ago, and its idle
// runtimes leave the pool with it, as every program's do on Close.
func TestLoadCacheEvictsLeastRecentlyUsed(t *testing.T) {
	e := New(Options{Limits: Limits{MaxPrograms: 2, PoolSize: 1}})
	a := load(t, e, handler(`1`))
	b := load(t, e, handler(`2`))
	wantSucceeded(t, run(t, e, b, `{}`))
	if len(b.pool) != 1 || e.idle.Load() != 1 {
		t.Fatalf("after a run: %d pooled, %d idle; want 1, 1", len(b.pool), e.idle.Load())
	}
	load(t, e, handler(`1`)) // a is now the most recently used
	c := load(t, e, handler(`3`))
	if !b.evicted.Load() || a.evicted.Load() || c.evicted.Load() {
		t.Fatalf("evicted: a %v, b %v, c %v; want only b", a.evicted.Load(), b.evicted.Load(), c.evicted.Load())
	}
	if len(b.pool) != 0 || e.idle.Load() != 0 {
		t.Errorf("evicted program keeps %d pooled runtimes (%d idle)", len(b.pool), e.idle.Load())
	}
	if again := load(t, e, handler(`1`)); again != a {
		t.Error("the recently used program was compiled again")
	}
	wantSucceeded(t, run(t, e, a, `{}`))
	e.Close()
	if !a.evicted.Load() || !c.evicted.Load() || len(a.pool) != 0 || e.idle.Load() != 0 {
		t.Errorf("after Close: a evicted %v, c evicted %v, %d pooled, %d idle", a.evicted.Load(), c.evicted.Load(), len(a.pool), e.idle.Load())
	}
}

func TestResultSizeBackstop(t *testing.T) {
	e := New(Options{Limits: Limits{MaxResultBytes: 200}})
	p := load(t, e, handler(`kinde.accessToken.setCustomClaim("a", "x".repeat(150)); kinde.accessToken.setCustomClaim("b", {c: ["<&>", 1.5, null, true]})`))
	wantFailed(t, run(t, e, p, `{}`), "result too large")
	small := load(t, e, handler(`kinde.accessToken.setCustomClaim("a", "x".repeat(50))`))
	wantSucceeded(t, run(t, e, small, `{}`))
}

// jsonSize never underestimates encoding/json's output.
func TestJSONSizeBound(t *testing.T) {
	for _, v := range []any{nil, true, -1.2345678901234567e-308, "a\"b\\c\n<&>é", []any{1.0, "x", nil},
		map[string]any{"k": map[string]any{"n": []any{}}, "é": "\x01"}} {
		b, _ := json.Marshal(v)
		if n, err := jsonSize(v); err != nil || n < len(b) {
			t.Errorf("jsonSize(%#v) = %d, %v; encoding/json writes %d bytes", v, n, err, len(b))
		}
	}
}

// The Symbol.for registry is what a run can leave in a frozen runtime: a
// runtime whose registry passes maxRegistrySymbols is not pooled again;
// repeated keys do not count.
func TestSymbolRegistryRetiresRuntime(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		pooled int
	}{
		{"same key", `for (let i = 0; i < 20000; i++) Symbol.for("k")`, 1},
		{"a few keys", `for (let i = 0; i < 100; i++) Symbol.for("k" + i)`, 1},
		{"registry full", fmt.Sprintf(`for (let i = 0; i <= %d; i++) Symbol.for("k" + i)`, maxRegistrySymbols), 0},
	}
	for _, tc := range tests {
		e := New(Options{Limits: Limits{PoolSize: 1}})
		p := load(t, e, handler(tc.body))
		wantSucceeded(t, run(t, e, p, `{}`))
		if n := len(p.pool); n != tc.pooled {
			t.Errorf("%s: %d runtimes pooled after the run, want %d", tc.name, n, tc.pooled)
		}
	}
}
