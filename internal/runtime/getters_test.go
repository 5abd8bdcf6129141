package runtime

import (
	"strings"
	"testing"
)

// Issue 14: setup.js's tamed accessors hand out wrapped builtins from a
// getter, and the freeze walk did not read getters, so 17 builtins stayed
// extensible: one end user's data rode on `({}).toString` into the next
// run, and a property defined on a builtin (`call`) hooked later runs.
// Every one of them is checked here, on one reused runtime.
var tamedBuiltins = []string{
	`({}).toString`, `({}).valueOf`, `({}).hasOwnProperty`, `({}).isPrototypeOf`,
	`({}).propertyIsEnumerable`, `({}).toLocaleString`, `({}).constructor`,
	`new Error("x").toString`, `new TypeError("x").toString`, `Function.prototype.toString`,
	`[].toString`, `"".toString`, `(1).toString`, `true.toString`, `Symbol.prototype.toString`,
	`new Date(0).toString`, `/a/.toString`, `Promise.prototype.toString`, `new Map().toString`,
	`new Set().toString`, `new WeakMap().toString`, `new WeakSet().toString`,
	`new URL("https://example.com").toString`, `new URLSearchParams("a=1").toString`,
}

func TestTamedBuiltinsCarryNothing(t *testing.T) {
	for _, grab := range tamedBuiltins {
		t.Run(grab, func(t *testing.T) {
			e := New(Options{Limits: Limits{PoolSize: 1}})
			defer e.Close()
			p := load(t, e, `module.exports.default = async function (event) {
  const W = `+grab+`;
  if (W.lastUser) kinde.accessToken.setCustomClaim("previousUser", W.lastUser);
  try { W.lastUser = event.user } catch (e) {}
  // A hook on the builtin's own call: later runs' events would reach it.
  try {
    Object.defineProperty(W, "call", { value: function (...a) { W.seen = JSON.stringify(a) } });
  } catch (e) {}
  try { W.call(event) } catch (e) {}
  if (W.seen) kinde.accessToken.setCustomClaim("hooked", W.seen);
  if (!Object.isFrozen(W)) kinde.accessToken.setCustomClaim("open", true);
};`)
			wantSucceeded(t, run(t, e, p, `{"user": "kp_alice 203.0.113.7"}`))
			r := run(t, e, p, `{"user": "kp_bob"}`)
			wantSucceeded(t, r)
			if len(p.pool) != 1 {
				t.Fatalf("the runtime was not reused (pool %d): the test proves nothing", len(p.pool))
			}
			for _, c := range []string{"previousUser", "hooked", "open"} {
				if v := claim(r, c); v != nil {
					t.Errorf("Bob's run: claim %s = %v", c, v)
				}
			}
		})
	}
}

// The getters themselves cannot be swapped for ones that remember.
func TestTamedAccessorsCannotBeRedefined(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	p := load(t, e, handler(`
const out = [];
for (const [o, k] of [[Object.prototype, "toString"], [Error.prototype, "message"], [Array.prototype, "toString"]]) {
  try { Object.defineProperty(o, k, { get() { return "hooked" } }); out.push("redefined " + k) } catch (e) {}
  try { o[k] = "x"; out.push("assigned " + k) } catch (e) {}
}
// The override mistake stays fixed: an instance can still shadow them.
const err = new Error("m"); err.name = "MyError"; err.toString = () => "mine";
const o = {}; o.toString = () => "own";
kinde.accessToken.setCustomClaim("out", out.join(","));
kinde.accessToken.setCustomClaim("shadow", err.name + " " + String(err) + " " + String(o));`))
	r := run(t, e, p, `{}`)
	wantSucceeded(t, r)
	if out := claim(r, "out"); out != "" {
		t.Fatalf("builtins changed: %v", out)
	}
	if s, _ := claim(r, "shadow").(string); !strings.HasPrefix(s, "MyError mine own") {
		t.Fatalf("shadowing: %q", s)
	}
}

// Other routes between two end users' runs on one
// runtime: objects the bindings hand out, hidden iterator prototypes,
// and accessors on frozen objects.
func TestBindingObjectsCarryNothing(t *testing.T) {
	e := New(Options{Limits: Limits{PoolSize: 1}})
	defer e.Close()
	p := load(t, e, `module.exports.default = async function (event) {
  const targets = {
    uspIterProto: Object.getPrototypeOf(new URLSearchParams("a=1").entries()),
    kinde, kindeAT: kinde.accessToken, console, log: console.log, module, exports: module.exports,
    atSet: kinde.accessToken.setCustomClaim, searchParamsProto: Object.getPrototypeOf(new URL("https://a.example/").searchParams),
    protoGetter: Object.getOwnPropertyDescriptor(Object.prototype, "__proto__").get,
    toPrimitive: Symbol.prototype[Symbol.toPrimitive], reflect: Reflect, json: JSON,
    kindeProto: Object.getPrototypeOf(kinde), kindeProtoProto: Object.getPrototypeOf(Object.getPrototypeOf(kinde) || {}),
  };
  const left = [];
  for (const [n, o] of Object.entries(targets)) {
    if (!o) continue;
    try { if (o.stash) left.push(n + "=" + o.stash) } catch (e) {}
    try { o.stash = event.user } catch (e) {}
    try { Reflect.defineProperty(o, "stash", { value: event.user }) } catch (e) {}
    try { Reflect.set(o, "stash", event.user) } catch (e) {}
  }
  if (left.length) kinde.accessToken.setCustomClaim("left", left.join(","));
};`)
	wantSucceeded(t, run(t, e, p, `{"user": "kp_alice"}`))
	r := run(t, e, p, `{"user": "kp_bob"}`)
	wantSucceeded(t, r)
	if len(p.pool) != 1 {
		t.Fatalf("the runtime was not reused (pool %d)", len(p.pool))
	}
	if l := claim(r, "left"); l != nil {
		t.Fatalf("Bob's run read %v", l)
	}
}
