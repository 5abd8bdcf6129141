package sandbox

import (
	"context"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Hidden state between runs and bounds on single calls, through the supervisor.

// The runtime's toUpperCase/toLowerCase use full Unicode case mapping
// ("ß" upper-cases to "SS", a final "Σ" lower-cases to "ς"), and Number()
// drops a PIN's leading zeros: the docs promise the upper/lower-cased
// secret and a numeric secret set as a number claim are redacted.
func TestRedactsFullCaseMappingAndNumericSecrets(t *testing.T) {
	const code = `module.exports.default = async function (event) {
  const pw = event.context.user.password;
  const s = kinde.env.get("API_KEY").value;
  const pin = kinde.env.get("PIN").value;
  kinde.accessToken.setCustomClaim("pwUpper", pw.toUpperCase());
  kinde.accessToken.setCustomClaim("pwLower", pw.toLowerCase());
  kinde.accessToken.setCustomClaim("sLower", s.toLowerCase());
  kinde.accessToken.setCustomClaim("sLocaleLower", s.toLocaleLowerCase());
  kinde.accessToken.setCustomClaim("pin", Number(pin));
  kinde.accessToken.setCustomClaim("pins", [Number(pin), { n: Number(pin) }]);
  kinde.accessToken.setCustomClaim("codes", { c: [1, 2].concat(Array.from(s, (c) => c.charCodeAt(0))) });
  console.log(pw.toUpperCase(), s.toLowerCase());
  throw new Error(pw.toUpperCase() + " " + s.toLowerCase());
};`
	const password, secret, pin = "Straße-Geheim-ﬀ", "ΚΩΔΙΚΟΣ-ΜΥΣΤΙΚΟΣ", "004217"
	leaks := []string{"STRASSE-GEHEIM-FF", "κωδικος-μυστικος"}
	req := &Request{
		Settings: workflow.Settings{ID: "case-mapping", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindEnv: {}, workflow.BindConsole: {}}},
		Code:  []byte(code),
		Event: []byte(`{"request":{},"context":{"user":{"id":"kp_1","password":"` + password + `"}}}`),
		Env: map[string]bindings.EnvVar{"API_KEY": {Value: secret, IsSecret: true},
			"PIN": {Value: pin, IsSecret: true}},
		Redact: []string{password},
	}
	sup, _ := newSupervisor(t, nil)
	in := patientInProcess()
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			res := r.Run(context.Background(), req).Result
			wantKind(t, res, workflow.KindThrown)
			if res.AccessToken == nil || len(res.AccessToken.CustomClaims) != 7 {
				t.Fatalf("claims %+v", res.AccessToken)
			}
			if got := res.AccessToken.CustomClaims["pin"]; got != bindings.RedactMark {
				t.Errorf("Number(pin) claim = %v, want %q", got, bindings.RedactMark)
			}
			if pins, _ := res.AccessToken.CustomClaims["pins"].([]any); len(pins) != 2 || pins[0] != bindings.RedactMark || pins[1].(map[string]any)["n"] != bindings.RedactMark {
				t.Errorf("nested Number(pin) claims = %v", res.AccessToken.CustomClaims["pins"])
			}
			if codes, _ := res.AccessToken.CustomClaims["codes"].(map[string]any); codes == nil || codes["c"] != bindings.RedactMark {
				t.Errorf("character codes claim = %v", res.AccessToken.CustomClaims["codes"])
			}
			for _, got := range resultStrings(t, res) {
				for _, l := range leaks {
					if strings.Contains(got, l) {
						t.Errorf("the Result holds %q", got)
					}
				}
			}
		})
	}
}

// Objects a workflow reaches only through a value it makes (not from the
// global object), shared by every run on the runtime: one end user's id
// stored on one must not be readable by the next run.
func TestNoStateOnHiddenSharedObjects(t *testing.T) {
	const code = `module.exports.default = async function (event) {
  const me = event.context.user.id;
  const reach = [
    () => new URLSearchParams("a=1").entries().next,
    () => Object.getPrototypeOf(new URLSearchParams("a=1").keys()),
    () => new URL("https://a.example/?q=1").searchParams.values().next,
  ];
  const left = [];
  for (const f of reach) {
    const o = f();
    if (o.lastUser && o.lastUser !== me) left.push(o.lastUser);
    try { o.lastUser = me } catch (e) {}
  }
  if (left.length) kinde.accessToken.setCustomClaim("previousUser", left.join("|"));
  kinde.accessToken.setCustomClaim("me", me);
};`
	sup, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	in := patientInProcess()
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			for i, u := range []string{"kp_alice", "kp_bob", "kp_carol"} {
				req := crossRunRequest(u, "203.0.113.9")
				req.Code = []byte(code)
				res := r.Run(context.Background(), req).Result
				wantOK(t, res)
				if res.AccessToken.CustomClaims["me"] != u {
					t.Fatalf("run %d: claims %+v", i, res.AccessToken)
				}
				if prev, ok := res.AccessToken.CustomClaims["previousUser"]; ok {
					t.Fatalf("%s's run read %v from an earlier run", u, prev)
				}
			}
		})
	}
}

// URL and URLSearchParams parse and serialise in one native call each:
// a 16 Mi character form string parsed into millions of pairs (1 GB of
// heap, seconds past the wall time, before the memory budget could act)
// and a 16 Mi character URL was percent-encoded into hundreds of MB. The
// bindings refuse such text before they parse it, with a catchable
// RangeError; the run goes on.
func TestURLBindingsRefuseHugeText(t *testing.T) {
	const code = `module.exports.default = async function (event) {
  const attacks = {
    formString: () => new URLSearchParams("a&".repeat(1 << 23)),
    url: () => new URL("https://a.example/" + "\u00e9".repeat((1 << 24) - 32)),
    base: () => new URL("x", "https://a.example/" + "a".repeat(1 << 21)),
    href: () => { new URL("https://a.example/").href = "https://a.example/" + "a".repeat(1 << 21); },
    pathname: () => { new URL("https://a.example/").pathname = "\u00e9".repeat(1 << 21); },
    record: () => { const big = "\u00e9".repeat(1 << 19); const o = {}; for (let i = 0; i < 100; i++) o["k" + i] = big; return new URLSearchParams(o).toString(); },
    pairs: () => { const big = "\u00e9".repeat(1 << 19); return new URLSearchParams(Array.from({ length: 100 }, () => ["k", big])).toString(); },
    manyPairs: () => new URLSearchParams((function* () { const p = ["k", "v"]; for (let i = 0; i < 70000; i++) yield p; })()),
    append: () => { const big = "\u00e9".repeat(1 << 19); const u = new URL("https://a.example/"); for (let i = 0; i < 100; i++) u.searchParams.append("k", big); return u.href; },
    set: () => { const big = "\u00e9".repeat(1 << 19); const p = new URLSearchParams(); for (let i = 0; i < 100; i++) p.set("k" + i, big); return p.toString(); },
  };
  for (const [name, f] of Object.entries(attacks)) {
    let got = "no error";
    try { f(); } catch (e) { got = e.name + ": " + e.message; }
    kinde.accessToken.setCustomClaim(name, got);
  }
  kinde.accessToken.setCustomClaim("fetch", (() => { try { kinde.fetch("https://a.example/" + "a".repeat(1 << 23)); } catch (e) { return e.message; } })());
  kinde.accessToken.setCustomClaim("small", new URL("https://a.example/p?q=1").searchParams.get("q"));
};`
	req := &Request{
		Settings: workflow.Settings{ID: "url-bombs", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindFetch: {}}},
		Code:  []byte(code),
		Event: []byte(`{"request":{},"context":{"user":{"id":"kp_1"}}}`),
	}
	sup, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	in := patientInProcess()
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			res := r.Run(context.Background(), req).Result
			wantOK(t, res)
			c := res.AccessToken.CustomClaims
			if c["small"] != "1" {
				t.Errorf("an ordinary URL: %v", c["small"])
			}
			for _, k := range []string{"formString", "url", "base", "href", "pathname", "record", "pairs", "manyPairs", "append", "set"} {
				if got, _ := c[k].(string); !strings.HasPrefix(got, "RangeError: ") || !strings.Contains(got, "allowed") {
					t.Errorf("%s: %v, want the RangeError of the size bound", k, c[k])
				}
			}
			if got, _ := c["fetch"].(string); !strings.Contains(got, "longer than") {
				t.Errorf("fetch: %v", c["fetch"])
			}
		})
	}
}

// A typed array (or a String object) has one own key per element, which
// goja lists as strings in one native call: console.log, kinde.fetch's
// headers and a claim value of new Uint8Array(16 << 20) each took over
// 1 GB of heap and seconds past the wall time before the memory budget
// could act. They are now shown by index or refused before listing (and a
// typed array has at most MaxArrayLength elements: TestTypedArrayElementsBounded).
func TestBindingsDoNotListTypedArrayKeys(t *testing.T) {
	const code = `module.exports.default = async function (event) {
  const u = new Uint8Array(1 << 20); // the most elements a typed array may have
  u[0] = 7;
  console.log(u);
  console.log({ inner: new Proxy(u, {}) });
  const attacks = {
    headers: () => kinde.fetch("https://a.example/", { headers: u }),
    proxyHeaders: () => kinde.fetch("https://a.example/", { headers: new Proxy(new Proxy(u, {}), {}) }),
    stringHeaders: () => kinde.fetch("https://a.example/", { headers: new String("x".repeat(1 << 24)) }),
    claim: () => kinde.accessToken.setCustomClaim("c", { u }),
    form: () => { const f = new Float64Array(1 << 20); Object.defineProperty(f, Symbol.iterator, { value: undefined }); return new URLSearchParams(f); },
  };
  for (const [name, f] of Object.entries(attacks)) {
    let got = "no error";
    try { f(); } catch (e) { got = e.name + ": " + e.message; }
    kinde.accessToken.setCustomClaim(name, got);
  }
  kinde.accessToken.setCustomClaim("small", new URLSearchParams(new Proxy({ a: "1" }, {})).toString());
};`
	req := &Request{
		Settings: workflow.Settings{ID: "typed-keys", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindFetch: {}, workflow.BindConsole: {}}},
		Code:  []byte(code),
		Event: []byte(`{"request":{},"context":{"user":{"id":"kp_1"}}}`),
	}
	sup, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	in := patientInProcess()
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			res := r.Run(context.Background(), req).Result
			wantOK(t, res)
			c := res.AccessToken.CustomClaims
			if c["small"] != "a=1" {
				t.Errorf("an ordinary record: %v", c["small"])
			}
			for _, k := range []string{"headers", "proxyHeaders", "stringHeaders", "claim", "form"} {
				if got, _ := c[k].(string); !strings.HasPrefix(got, "TypeError: ") && !strings.HasPrefix(got, "RangeError: ") || !strings.Contains(got, "allowed") {
					t.Errorf("%s: %v, want the bound's error", k, c[k])
				}
			}
			if len(res.Logs) != 2 || !strings.HasPrefix(res.Logs[0].Message, "[ 7, 0, 0") || !strings.Contains(res.Logs[0].Message, "more items") ||
				!strings.HasPrefix(res.Logs[1].Message, "{ inner: [ 7, 0") {
				t.Errorf("logs %.300v", res.Logs)
			}
		})
	}
}

// A typed array has an own key per element, listed natively by builtins
// (Object.keys, Object.assign, Object.entries, getOwnPropertyDescriptors,
// JSON.stringify) and by instructions no builtin guard sees (spread,
// for-in): over a 16 Mi element Uint8Array (16 MiB, within the buffer
// limit) one of them ran 40-80 s past a 5 s wall time in process. A typed
// array now has at most MaxArrayLength elements, however it is made.
func TestTypedArrayElementsBounded(t *testing.T) {
	const code = `module.exports.default = async function (event) {
  const attacks = {
    length: () => new Uint8Array(16 << 20),
    view: () => new Uint8Array(new ArrayBuffer(16 << 20)),
    viewLength: () => new Uint16Array(new ArrayBuffer(16 << 20), 2, { valueOf: () => 4 << 20 }),
    float: () => new Float64Array(2 << 20),
    from: () => Uint8Array.from({ length: 16 << 20 }),
    subarray: () => { const b = new ArrayBuffer(16 << 20); return new Uint8Array(b, 0, 8).constructor === Uint8Array && new Uint8Array(b, 1 << 20) },
  };
  for (const [name, f] of Object.entries(attacks)) {
    let got = "no error";
    try { f(); } catch (e) { got = e.name + ": " + e.message; }
    kinde.accessToken.setCustomClaim(name, got);
  }
  const ok = new Uint8Array(new ArrayBuffer(16 << 20), (16 << 20) - 8);
  kinde.accessToken.setCustomClaim("ok", ok.length + " " + new Uint8Array(1 << 20).length + " " + Object.keys(new Uint8Array(3)).join());
};`
	req := &Request{
		Settings: workflow.Settings{ID: "typed-bound", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}},
		Code:  []byte(code),
		Event: []byte(`{"request":{},"context":{"user":{"id":"kp_1"}}}`),
	}
	sup, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	in := patientInProcess()
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			res := r.Run(context.Background(), req).Result
			wantOK(t, res)
			c := res.AccessToken.CustomClaims
			if c["ok"] != "8 1048576 0,1,2" {
				t.Errorf("ordinary typed arrays: %v", c["ok"])
			}
			for _, k := range []string{"length", "view", "viewLength", "float", "from", "subarray"} {
				if got, _ := c[k].(string); !strings.HasPrefix(got, "RangeError: memory limit exceeded") {
					t.Errorf("%s: %v, want the element bound's RangeError", k, c[k])
				}
			}
		})
	}
}

// Object spread and rest of a long string or array ({..."x".repeat(2 ** 24)})
// copy one property per element in a single compiled instruction, where
// no interrupt lands: the source's length is bounded before the copy, in
// every form (spread, rest in a declaration, in an assignment, in a
// parameter default, a String object, an array), and dynamic code may not
// use the syntax at all. Ordinary spreads still work.
func TestStringSpreadBounded(t *testing.T) {
	const code = `module.exports.default = async function (event) {
  const long = "x".repeat(1 << 24);
  const attacks = {
    spread: () => ({ ...long }),
    nested: () => ({ a: { b: [{ ...long }] } }),
    stringObject: () => ({ ...new String(long) }),
    array: () => { const a = []; a.length = (1 << 14) + 1; return { ...a }; },
    restDeclaration: () => { const { ...r } = long; return r; },
    restAssignment: () => { let r; ({ ...r } = long); return r; },
    restDefault: () => (({ ...r } = long) => r)(),
    eval: () => (0, eval)("({...'x'.repeat(1 << 24)})"),
    newFunction: () => new Function("s", "return {...s}")(long),
  };
  for (const [name, f] of Object.entries(attacks)) {
    let got = "no error";
    try { f(); } catch (e) { got = e.name + ": " + e.message; }
    kinde.accessToken.setCustomClaim(name, got);
  }
  const { a, ...rest } = { a: 1, b: 2, c: 3 };
  const o = { ...{ x: 1 }, ..."ab", ...[7], ...null, ...rest, ..."y".repeat(1 << 14) };
  for (const k of Object.keys(o)) if (+k > 1) delete o[k];
  kinde.accessToken.setCustomClaim("ok", JSON.stringify(o) + " " + a);
};`
	req := &Request{
		Settings: workflow.Settings{ID: "spread", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}},
		Code: []byte(code), Event: []byte(`{}`),
	}
	sup, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	in := NewInProcess(Options{})
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			res := r.Run(context.Background(), req).Result
			wantOK(t, res)
			c := res.AccessToken.CustomClaims
			if want := `{"0":"y","1":"y","x":1,"b":2,"c":3} 1`; c["ok"] != want {
				t.Errorf("ordinary spreads: %v, want %s", c["ok"], want)
			}
			for _, k := range []string{"spread", "nested", "stringObject", "array", "restDeclaration", "restAssignment", "restDefault", "eval", "newFunction"} {
				if got, _ := c[k].(string); !strings.HasPrefix(got, "RangeError: memory limit exceeded") {
					t.Errorf("%s: %v, want a guard's RangeError", k, c[k])
				}
			}
		})
	}
}

// The rest of a nested pattern or of a parameter without a default copies
// a long string's characters like a spread, but its source is not an
// expression the load-time rewrite can wrap.
func TestNestedRestBounded(t *testing.T) {
	t.Skip(`hole: ({a: {...r}} = {a: s}) and (({...r}) => r)(s) with a 16M character s copy natively; only the worker's deadline stops them`)
	const code = `module.exports.default = async function (event) {
  const long = "x".repeat(1 << 24);
  const attacks = {
    nested: () => { const { a: { ...r } } = { a: long }; return r; },
    parameter: () => (({ ...r }) => r)(long),
  };
  for (const [name, f] of Object.entries(attacks)) {
    let got = "no error";
    try { f(); } catch (e) { got = e.name + ": " + e.message; }
    kinde.accessToken.setCustomClaim(name, got);
  }
};`
	in := patientInProcess()
	defer in.Close()
	res := in.Run(context.Background(), &Request{
		Settings: workflow.Settings{ID: "rest", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}},
		Code: []byte(code), Event: []byte(`{}`),
	}).Result
	wantOK(t, res)
	for _, k := range []string{"nested", "parameter"} {
		if got, _ := res.AccessToken.CustomClaims[k].(string); !strings.HasPrefix(got, "RangeError: memory limit exceeded") {
			t.Errorf("%s: %v, want a guard's RangeError", k, got)
		}
	}
}
