package sandbox

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Issue 14, through the real service's runner: one end user's data must
// not reach the next end user's run on the same worker, through a
// builtin reached by a getter (the tamed Object.prototype methods) or a
// hook defined on one, and a secret must not leave through the encodings
// the runtime offers. Both runners: the worker process and in-process.

// crossRunCode stashes each event's user on builtins and hooks their call,
// then reports what an earlier run left.
const crossRunCode = `module.exports.default = async function (event) {
  const user = event.context.user.id + " " + event.request.ip;
  const targets = [({}).toString, ({}).valueOf, ({}).hasOwnProperty, ({}).isPrototypeOf,
    ({}).propertyIsEnumerable, ({}).toLocaleString, [].toString, "".toString, new Error("e").toString];
  const left = [];
  for (const W of targets) {
    if (W.lastUser) left.push(W.lastUser);
    if (W.seen) left.push(W.seen);
    try { W.lastUser = user } catch (e) {}
    try { Object.defineProperty(W, "call", { value: function (ev) { W.seen = JSON.stringify(ev) } }) } catch (e) {}
    try { W.call(event) } catch (e) {}
  }
  if (left.length) kinde.accessToken.setCustomClaim("previousUser", left.join("|"));
  kinde.accessToken.setCustomClaim("me", user);
};`

func crossRunRequest(user, ip string) *Request {
	return &Request{
		Settings: workflow.Settings{ID: "crossrun", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}},
		Code:  []byte(crossRunCode),
		Event: []byte(`{"request":{"ip":"` + ip + `"},"context":{"user":{"id":"` + user + `"}}}`),
	}
}

func TestNoStateCrossesRuns(t *testing.T) {
	sup, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	in := patientInProcess()
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			users := []string{"kp_alice", "kp_bob", "kp_carol"}
			for i, u := range users {
				res := r.Run(context.Background(), crossRunRequest(u, "203.0.113."+itoa(i+1))).Result
				wantOK(t, res)
				if res.AccessToken == nil || res.AccessToken.CustomClaims["me"] != u+" 203.0.113."+itoa(i+1) {
					t.Fatalf("run %d: claims %+v", i, res.AccessToken)
				}
				if prev, ok := res.AccessToken.CustomClaims["previousUser"]; ok {
					t.Fatalf("%s's run read %v from an earlier run", u, prev)
				}
			}
		})
	}
}

// secretEncodings are spellings of a value s that workflow code can make
// with what the runtime offers (and a bundled base64 library).
var secretEncodings = []string{
	`s`, `s.toUpperCase()`, `s.toLowerCase()`, `encodeURIComponent(s)`, `encodeURI(s)`, `escape(s)`,
	`encodeURIComponent(s).toLowerCase()`, `escape(s).toLowerCase()`, `JSON.stringify(s)`,
	`JSON.stringify({ s })`, `JSON.stringify(JSON.stringify(s))`, `new URLSearchParams({ s }).toString()`,
	`s.normalize("NFD")`, `s.normalize("NFKC")`, `encodeURIComponent(s.normalize("NFD"))`,
	`hex(s)`, `hex(s).toUpperCase()`, `"x" + hex(s)`, `hex4(s)`,
	`JSON.stringify(Array.from(s, (c) => c.charCodeAt(0)))`, `Array.from(s, (c) => c.charCodeAt(0)).join()`,
	`b64(s)`, `"a" + b64("a" + s)`, `b64("ab" + s) + "z"`, `b64(s).replace(/\+/g, "-").replace(/\//g, "_")`,
}

// secretCode puts every encoding of a secret and of the password into
// claims, logs and the thrown error.
func secretCode() string {
	var b strings.Builder
	b.WriteString(`const hex = (t) => Array.from(new TextEncoderLite().encode(t), (c) => c.toString(16).padStart(2, "0")).join("");
const hex4 = (t) => Array.from(t, (c) => c.charCodeAt(0).toString(16).padStart(4, "0")).join("");
function TextEncoderLite() {}
TextEncoderLite.prototype.encode = (t) => Array.from(unescape(encodeURIComponent(t)), (c) => c.charCodeAt(0));
// A base64 library's encoder over UTF-8 bytes (the runtime has no btoa).
const b64 = (t) => {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const by = new TextEncoderLite().encode(t);
  let o = "";
  for (let i = 0; i < by.length; i += 3) {
    const n = (by[i] << 16) | ((by[i + 1] || 0) << 8) | (by[i + 2] || 0);
    o += A[n >> 18] + A[(n >> 12) & 63] + (i + 1 < by.length ? A[(n >> 6) & 63] : "=") + (i + 2 < by.length ? A[n & 63] : "=");
  }
  return o;
};
module.exports.default = async function (event) {
  const all = [];
  let n = 0;
  for (const s of [kinde.env.get("API_KEY").value, event.context.user.password]) {
`)
	for _, enc := range secretEncodings {
		b.WriteString(`    { const v = ` + enc + `; console.log(v); all.push(v); kinde.accessToken.setCustomClaim("c" + n++, v); }
`)
	}
	b.WriteString(`  }
  throw new Error(all.join(" "));
};`)
	return b.String()
}

// resultStrings are all the strings of a Result as it is sent on.
func resultStrings(t *testing.T, res *workflow.Result) []string {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func TestSecretEncodingsAreRedacted(t *testing.T) {
	const secret, password = "sk_live_Secret/Value+1", "Pa ss/wörd?&=€"
	sup, _ := newSupervisor(t, nil)
	in := patientInProcess()
	defer in.Close()
	request := func(marked bool) *Request {
		r := &Request{
			Settings: workflow.Settings{ID: "secrets", Trigger: workflow.UserTokenGeneration,
				Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindEnv: {}, workflow.BindConsole: {}}},
			Code:  []byte(secretCode()),
			Event: []byte(`{"request":{},"context":{"user":{"id":"kp_1","password":"` + password + `"}}}`),
			Env:   map[string]bindings.EnvVar{"API_KEY": {Value: secret, IsSecret: marked}},
		}
		if marked {
			r.Redact = []string{password}
		}
		return r
	}
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			// Unmarked, the claims are the spellings themselves.
			plain := r.Run(context.Background(), request(false)).Result
			wantKind(t, plain, workflow.KindThrown)
			var spellings []string
			for k, v := range plain.AccessToken.CustomClaims {
				s, ok := v.(string)
				if !ok || !strings.HasPrefix(k, "c") {
					t.Fatalf("claim %s = %v", k, v)
				}
				spellings = append(spellings, strings.TrimLeft(s, "axz")) // the padding letters the code adds
			}
			if len(spellings) != 2*len(secretEncodings) {
				t.Fatalf("%d spellings, want %d", len(spellings), 2*len(secretEncodings))
			}
			res := r.Run(context.Background(), request(true)).Result
			wantKind(t, res, workflow.KindThrown)
			for _, got := range resultStrings(t, res) {
				for _, sp := range spellings {
					// Two characters at each end of a base64 form depend on
					// the neighbouring bytes (spellings.go).
					core := sp
					if len(core) > 8 {
						core = core[2 : len(core)-2]
					}
					if strings.Contains(got, core) {
						t.Errorf("the Result holds %q, part of the spelling %q", core, sp)
					}
				}
			}
		})
	}
}

// A failed fetch and the single-call guards, through both runners: the
// message shows no address of the host's network, and each huge native
// call ends as kind memory from its guard.
func TestServiceErrorsAndNativeBounds(t *testing.T) {
	sup, _ := newSupervisor(t, nil)
	in := patientInProcess()
	defer in.Close()
	addr := regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b|lookup `)
	cases := []struct{ name, body, want string }{
		{"fetch", `await kinde.fetch("http://flowgate-test.invalid/")`, ""},
		{"BigInt", `BigInt("9".repeat(4 << 20))`, "BigInt text length"},
		{"normalize", `"e\u0301".repeat(8 << 20).normalize()`, "normalized string length"},
		{"parseFloat", `parseFloat("9".repeat(16 << 20))`, "number text length"},
		{"encodeURIComponent", `encodeURIComponent("\uffff".repeat(16e6))`, "encoded string length"},
	}
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				res := r.Run(context.Background(), &Request{
					Settings: workflow.Settings{ID: "errs", Trigger: workflow.UserTokenGeneration,
						Bindings: map[string]workflow.BindingSettings{workflow.BindFetch: {}}},
					Code:       []byte("module.exports.default = async function () {\n" + c.body + "\n};"),
					Event:      []byte(`{"request":{},"context":{}}`),
					AllowHosts: []string{"flowgate-test.invalid"},
				}).Result
				if c.want == "" {
					wantKind(t, res, workflow.KindBinding)
					if m := addr.FindString(res.Error.Message + res.Error.Stack); m != "" {
						t.Fatalf("the error shows %q: %s", m, res.Error.Message)
					}
					return
				}
				wantKind(t, res, workflow.KindMemory)
				if !strings.Contains(res.Error.Message, c.want) {
					t.Fatalf("message %q; want the %q guard", res.Error.Message, c.want)
				}
			})
		}
	}
}

// A numeric secret (a PIN) set as a number claim is redacted as well.
func TestNumericSecretClaimIsRedacted(t *testing.T) {
	sup, _ := newSupervisor(t, nil)
	in := patientInProcess()
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			res := r.Run(context.Background(), &Request{
				Settings: workflow.Settings{ID: "pin", Trigger: workflow.UserTokenGeneration,
					Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindEnv: {}}},
				Code: []byte(`module.exports.default = async function () {
  const pin = kinde.env.get("PIN").value;
  kinde.accessToken.setCustomClaim("n", Number(pin));
  kinde.accessToken.setCustomClaim("nested", { a: [parseInt(pin, 10)] });
  kinde.accessToken.setCustomClaim("other", 42);
};`),
				Event: []byte(`{"request":{},"context":{}}`),
				Env:   map[string]bindings.EnvVar{"PIN": {Value: "73915846", IsSecret: true}},
			}).Result
			wantOK(t, res)
			for _, s := range resultStrings(t, res) {
				if strings.Contains(s, "73915846") {
					t.Fatalf("the Result holds the PIN: %q", s)
				}
			}
			b, _ := json.Marshal(res.AccessToken)
			if strings.Contains(string(b), "73915846") || !strings.Contains(string(b), `"other":42`) {
				t.Fatalf("claims %s", b)
			}
		})
	}
}

// A claim nested past what a JSON decoder accepts (12,000 levels, 24 KB)
// is refused where it is set, so the supervisor never fails to decode a
// Result and no worker is killed.
func TestDeepClaimIsRefusedWhereSet(t *testing.T) {
	sup, _ := newSupervisor(t, func(o *Options) { o.Workers = 1; o.QuarantineAfter = 2 })
	in := patientInProcess()
	defer in.Close()
	req := func() *Request {
		return &Request{
			Settings: workflow.Settings{ID: "deep", Trigger: workflow.UserTokenGeneration,
				Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}}},
			Code: []byte(`module.exports.default = async function () {
  let v = 1; for (let i = 0; i < 12000; i++) v = [v];
  kinde.accessToken.setCustomClaim("deep", v);
};`),
			Event: []byte(`{"request":{},"context":{}}`),
		}
	}
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			for range 3 { // past QuarantineAfter: no kill counts
				res := r.Run(context.Background(), req()).Result
				wantKind(t, res, workflow.KindBinding)
				if !strings.Contains(res.Error.Message, "nests deeper than") {
					t.Fatalf("message %q", res.Error.Message)
				}
			}
		})
	}
}
