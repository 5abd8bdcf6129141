package sandbox

import (
	"context"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Attack review of the trigger path: each test below failed before its fix.

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
	in := NewInProcess(Options{})
	defer in.Close()
	for name, r := range map[string]Runner{"supervised": sup, "in-process": in} {
		t.Run(name, func(t *testing.T) {
			res := r.Run(context.Background(), req).Result
			wantKind(t, res, workflow.KindThrown)
			if res.AccessToken == nil || len(res.AccessToken.CustomClaims) != 6 {
				t.Fatalf("claims %+v", res.AccessToken)
			}
			if got := res.AccessToken.CustomClaims["pin"]; got != bindings.RedactMark {
				t.Errorf("Number(pin) claim = %v, want %q", got, bindings.RedactMark)
			}
			if pins, _ := res.AccessToken.CustomClaims["pins"].([]any); len(pins) != 2 || pins[0] != bindings.RedactMark || pins[1].(map[string]any)["n"] != bindings.RedactMark {
				t.Errorf("nested Number(pin) claims = %v", res.AccessToken.CustomClaims["pins"])
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
	in := NewInProcess(Options{})
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
