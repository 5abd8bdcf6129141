package bindings

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// TestRefusalsAreTyped: every kind of refusal throws an ordinary JS error
// whose *Error (by BindingError) says the kind; a user error is none.
func TestRefusalsAreTyped(t *testing.T) {
	cases := []struct {
		name string
		cfg  *Config
		js   string
		kind ErrorKind
	}{
		{"bad argument", &Config{Settings: declare(workflow.UserPreMFA, workflow.BindMFA)},
			`kinde.mfa.setEnforcementPolicy("maybe")`, ErrBadArgument},
		{"claim too large", &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)},
			`kinde.accessToken.setCustomClaim("a", "x".repeat(70000))`, ErrBadArgument},
		{"no encryption key", &Config{Settings: declare(workflow.NewPasswordProvided, workflow.BindSecureFetch)},
			`kinde.secureFetch("https://example.com", {body: "x"})`, ErrUnavailable},
		{"blocked address", &Config{Settings: declare(workflow.PostAuthentication, workflow.BindFetch)},
			`kinde.fetch("http://127.0.0.1:9/")`, ErrNetworkPolicy},
		{"request cap", &Config{Settings: declare(workflow.PostAuthentication, workflow.BindFetch), Net: &NetPolicy{MaxRequests: 1}},
			`try { kinde.fetch("http://127.0.0.1:9/") } catch {}; kinde.fetch("http://127.0.0.1:9/")`, ErrNetworkPolicy},
		{"connection refused", &Config{Settings: declare(workflow.PostAuthentication, workflow.BindFetch), Net: &NetPolicy{AllowHosts: []string{"127.0.0.1:9"}}},
			`kinde.fetch("http://127.0.0.1:9/")`, ErrRequestFailed},
		{"caught and rethrown", &Config{Settings: declare(workflow.UserPreMFA, workflow.BindMFA)},
			`let e; try { kinde.mfa.setEnforcementPolicy(1) } catch (x) { e = x }; throw e`, ErrBadArgument},
		{"user error", &Config{Settings: declare(workflow.UserPreMFA, workflow.BindMFA)},
			`throw new TypeError("kinde.mfa.setEnforcementPolicy: mine")`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t, c.cfg)
			_, err := s.vm.RunString(c.js)
			ex, ok := err.(*goja.Exception)
			if !ok {
				t.Fatalf("want a JS exception, got %v", err)
			}
			be := s.inv.BindingError(ex.Value())
			if c.kind == "" {
				if be != nil {
					t.Fatalf("user error classified as %v", be.Kind)
				}
				return
			}
			if be == nil || be.Kind != c.kind {
				t.Fatalf("BindingError = %+v, want kind %s (thrown %s)", be, c.kind, ex.Value())
			}
			if be.Message != ex.Value().ToObject(s.vm).Get("message").String() {
				t.Errorf("message %q differs from the thrown one", be.Message)
			}
		})
	}
}

// TestMessagesFormattedOnce: user text with % survives, and types are
// named as JS names them, never as Go types.
func TestMessagesFormattedOnce(t *testing.T) {
	pre := newSandbox(t, &Config{Settings: declare(workflow.UserPreMFA, workflow.BindMFA, workflow.BindAuth)})
	tok := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
	cases := []struct{ js, want string }{
		{`kinde.mfa.setEnforcementPolicy("100%z %s %d")`, `TypeError: kinde.mfa.setEnforcementPolicy: policy must be "required" or "skip", got "100%z %s %d"`},
		{`kinde.auth.denyAccess(10n)`, `TypeError: kinde.auth.denyAccess: reason must be a string, got bigint`},
		{`kinde.auth.denyAccess(Symbol("s"))`, `TypeError: kinde.auth.denyAccess: reason must be a string, got symbol`},
		{`kinde.auth.denyAccess(true)`, `TypeError: kinde.auth.denyAccess: reason must be a string, got boolean`},
		{`kinde.accessToken.setCustomClaim(1n, 1)`, `TypeError: kinde.accessToken.setCustomClaim: name must be a string, got bigint`},
		{`new URL("%zz")`, `TypeError: Invalid URL`},
	}
	for _, c := range cases {
		s := pre
		if strings.Contains(c.js, "accessToken") {
			s = tok
		}
		_, err := s.run(c.js)
		if err != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.js, err, c.want)
		}
		for _, bad := range []string{"%!", "*big", "goja", "MISSING"} {
			if strings.Contains(err, bad) {
				t.Errorf("%s: message %q shows %q", c.js, err, bad)
			}
		}
	}
}

// TestProxyKeysWithoutValues: a Proxy whose ownKeys lists a key its get
// cannot produce reads as undefined everywhere bindings walk objects.
func TestProxyKeysWithoutValues(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"h":"` + r.Header.Get("Get") + `"}`))
	}))
	defer srv.Close()
	s := newSandbox(t, &Config{
		Settings: declare(workflow.PlanSelection, workflow.BindFetch, workflow.BindPlan, workflow.BindURL),
		Net:      &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}},
	})
	s.mustRun(t, `var P = () => new Proxy({}, {ownKeys: () => ["get"], getOwnPropertyDescriptor: () => ({value: 1, enumerable: true, configurable: true})})`)
	cases := []struct{ js, want string }{
		{`(console.log(P()), "ok")`, "ok"},
		{`kinde.fetch("` + srv.URL + `", {headers: P()}).json.h`, "undefined"},
		{`new URLSearchParams(P()).toString()`, "get=undefined"},
		{`(() => { try { kinde.plan.denySelection("m", P()) } catch (e) { return e.name } })()`, "TypeError"},
	}
	for _, c := range cases {
		got, err := s.run(`String(` + c.js + `)`)
		if err != "" || got != c.want {
			t.Errorf("%s: got %v, threw %q; want %q", c.js, got, err, c.want)
		}
	}
	if strings.Contains(logText(s.res), "internal error") {
		t.Errorf("logs: %s", logText(s.res))
	}
	if !strings.Contains(logText(s.res), "{ get: undefined }") {
		t.Errorf("console showed %q", logText(s.res))
	}
}

// TestResponseJSONBounded: a 1 MiB body of "[" is not parsed (it would
// recurse a million levels); .json is undefined with a warning, .text is
// whole, and reading .json allocates little. A body nobody reads as JSON
// is never parsed; .json can be assigned like a plain property.
func TestResponseJSONBounded(t *testing.T) {
	big := strings.Repeat("[", 1<<20)
	wide := "[" + strings.Repeat("[],", MaxJSONContainers) + "[]]"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/deep":
			w.Write([]byte(big))
		case "/wide":
			w.Write([]byte(wide))
		default:
			w.Write([]byte(`{"a":[1,{"b":"]]]"}]}`))
		}
	}))
	defer srv.Close()
	s := newSandbox(t, &Config{Settings: declare(workflow.PostAuthentication, workflow.BindFetch),
		Net: &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}}})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got := s.mustRun(t, `const r = kinde.fetch("`+srv.URL+`/deep");
		[typeof r.json, r.text.length, typeof kinde.fetch("`+srv.URL+`/wide").json].join(" ")`)
	runtime.ReadMemStats(&after)
	if got != "undefined 1048576 undefined" {
		t.Errorf("got %v", got)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("reading .json of hostile bodies allocated %d MiB", grew>>20)
	}
	logs := logText(s.res)
	if !strings.Contains(logs, "nests deeper than 512 levels") || !strings.Contains(logs, "more than 100000 objects and arrays") {
		t.Errorf("logs: %s", logs)
	}
	got = s.mustRun(t, `const o = kinde.fetch("`+srv.URL+`/ok");
		const first = o.json; const same = o.json === first;
		o.json = 5;
		[first.a[1].b, same, o.json, Object.getOwnPropertyDescriptor(o, "json").writable].join(" ")`)
	if got != "]]] true 5 true" {
		t.Errorf("got %v", got)
	}
}

// TestRedactBeforeCut: a secret crossing the 16 KiB line cut, or the log
// byte cap, or split across two console calls, leaves no part of itself.
func TestRedactBeforeCut(t *testing.T) {
	const secret = "sk_live_SECRET123456"
	cfg := func() *Config {
		return &Config{Env: map[string]EnvVar{"K": {Value: secret, IsSecret: true}}}
	}
	cases := []struct{ name, js string }{
		{"across the line cut", `console.log("x".repeat(16384 - 12) + kinde_secret)`},
		{"across the line cut, quoted in an object", `console.log({v: "x".repeat(16384 - 12) + kinde_secret})`},
		{"across the line cut, %s", `console.log("%s", "x".repeat(16384 - 12) + kinde_secret)`},
		{"across the log byte cap", `for (let i = 0; i < 5; i++) console.log("y".repeat(10000)); console.log("z".repeat(15530) + kinde_secret)`},
		{"split across two calls", `console.log("a " + kinde_secret.slice(0, 12)); console.log(kinde_secret.slice(12) + " b")`},
		{"split across two calls, JSON", `console.log(JSON.stringify({a: kinde_secret.slice(0, 9)}).slice(0, -2)); console.log(kinde_secret.slice(9))`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t, cfg())
			s.vm.Set("kinde_secret", secret)
			s.mustRun(t, c.js)
			logs := logText(s.res)
			for n := 6; n <= len(secret); n++ {
				if strings.Contains(logs, secret[:n]) || strings.Contains(logs, secret[len(secret)-n:]) {
					t.Fatalf("logs hold %d characters of the secret: …%s…", n, logs[max(0, strings.Index(logs, secret[:6])-10):][:40])
				}
			}
		})
	}
}

// TestSecretsNotReturned: secrets and passwords are redacted from claims,
// denial reasons, plan messages and form messages, with a warning that
// names the place; a claim name holding one is refused.
func TestSecretsNotReturned(t *testing.T) {
	const secret, password = "env-secret-value", "hunter2-password"
	cfg := func(trigger string, names ...string) *Config {
		return &Config{Settings: declare(trigger, names...), Env: map[string]EnvVar{"K": {Value: secret, IsSecret: true},
			"P": {Value: "public-value"}}, Redact: []string{password}}
	}
	cases := []struct {
		name string
		cfg  *Config
		js   string
	}{
		{"claim", cfg(workflow.UserTokenGeneration, workflow.BindAccessToken, workflow.BindEnv),
			`kinde.accessToken.setCustomClaim("k", {nested: ["x " + kinde.env.get("K").value], [kinde.env.get("K").value]: 1, pub: kinde.env.get("P").value})`},
		{"deny reason", cfg(workflow.PostAuthentication, workflow.BindAuth), `kinde.auth.denyAccess("no: " + pw)`},
		{"plan messages", cfg(workflow.PlanSelection, workflow.BindPlan, workflow.BindEnv),
			`kinde.plan.denySelection("m " + kinde.env.get("K").value, ["r " + pw])`},
		{"form message", cfg(workflow.NewPasswordProvided, workflow.BindWidget), `kinde.widget.invalidateFormField("p_password", "weak: " + pw)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t, c.cfg)
			s.vm.Set("pw", password)
			s.mustRun(t, c.js)
			out, err := json.Marshal(s.res)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), secret) || strings.Contains(string(out), password) {
				t.Fatalf("result holds a secret: %s", out)
			}
			if !strings.Contains(string(out), RedactMark) || !strings.Contains(logText(s.res), "was redacted") {
				t.Errorf("no redaction mark or warning: %s", out)
			}
			if c.name == "claim" && !strings.Contains(string(out), "public-value") {
				t.Errorf("a public value was redacted: %s", out)
			}
		})
	}
	s := newSandbox(t, cfg(workflow.UserTokenGeneration, workflow.BindAccessToken))
	if _, err := s.run(`kinde.accessToken.setCustomClaim("` + secret + `", 1)`); !strings.Contains(err, "may not hold a secret") || strings.Contains(err, secret) {
		t.Errorf("secret claim name: %q", err)
	}
	// A form field's name reaches the end user's browser as a key of the
	// Result: a password or secret there is
	// refused like a claim name.
	for _, js := range []string{`kinde.widget.invalidateFormField(pw, "too weak")`, `kinde.widget.invalidateFormField(kinde.env.get("K").value, "x")`} {
		s := newSandbox(t, cfg(workflow.NewPasswordProvided, workflow.BindWidget, workflow.BindEnv))
		s.vm.Set("pw", password)
		_, err := s.run(js)
		out, _ := json.Marshal(s.res)
		if !strings.Contains(err, "may not hold a secret") || strings.Contains(err, secret) || strings.Contains(err, password) ||
			strings.Contains(string(out), secret) || strings.Contains(string(out), password) {
			t.Errorf("%s: err %q, result %s", js, err, out)
		}
	}
}

// TestUndeclaredReadsRecorded: reading a kinde.* binding the workflow did
// not declare (or its trigger does not allow) yields undefined, as before,
// and is listed by Undeclared in first-read order, with or without a realm.
func TestUndeclaredReadsRecorded(t *testing.T) {
	for _, withRealm := range []bool{false, true} {
		vm := goja.New()
		if err := InstallGlobals(vm); err != nil {
			t.Fatal(err)
		}
		cfg := &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken, workflow.BindMFA)}
		var inv *Invocation
		if withRealm {
			realm, err := NewRealm(vm)
			if err != nil {
				t.Fatal(err)
			}
			realm.New(context.Background(), cfg, &workflow.Result{}) // an earlier run on the runtime
			inv = realm.New(context.Background(), cfg, &workflow.Result{})
		} else {
			inv = New(context.Background(), vm, cfg, &workflow.Result{})
		}
		vm.Set("kinde", inv.Kinde())
		v, err := vm.RunString(`"use strict";
			const seen = [typeof kinde.fetch, typeof kinde.cache, typeof kinde.mfa, typeof kinde.accessToken, typeof kinde.fetch];
			const keys = Object.keys(kinde).join(",");
			kinde.env = {get: () => 1};
			seen.join(",") + " " + keys + " " + kinde.env.get()`)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.String(); got != "undefined,undefined,undefined,object,undefined accessToken 1" {
			t.Errorf("realm %v: got %q", withRealm, got)
		}
		if got := inv.Undeclared(); strings.Join(got, ",") != "kinde.fetch,kinde.cache,kinde.mfa" {
			t.Errorf("realm %v: Undeclared = %v", withRealm, got)
		}
	}
}

// TestKindePrototypeHoldsNoState: the realm's kinde prototype outlives
// invocations, so nothing a run does to it may reach the next run.
func TestKindePrototypeHoldsNoState(t *testing.T) {
	vm := goja.New()
	if err := InstallGlobals(vm); err != nil {
		t.Fatal(err)
	}
	realm, err := NewRealm(vm)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)}
	vm.Set("kinde", realm.New(context.Background(), cfg, &workflow.Result{}).Kinde())
	v, err := vm.RunString(`"use strict";
		const p = Object.getPrototypeOf(kinde);
		const tries = [() => { p.stash = "alice" }, () => Object.defineProperty(p, "fetch", {value: 1}),
			() => Object.setPrototypeOf(p, {stash: "alice"})];
		tries.map(f => { try { f(); return "changed" } catch (e) { return e.name } }).join(",")`)
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != "TypeError,TypeError,TypeError" {
		t.Errorf("changing the prototype: %s", v)
	}
	vm.Set("kinde", realm.New(context.Background(), cfg, &workflow.Result{}).Kinde())
	v, _ = vm.RunString(`String(kinde.stash) + " " + typeof kinde.fetch`)
	if v.String() != "undefined undefined" {
		t.Errorf("next run sees %s", v)
	}
}

// TestTokenMethodOfAnotherRun: a realm's prebuilt claim method called in a
// run that did not declare its token is refused as unavailable.
func TestTokenMethodOfAnotherRun(t *testing.T) {
	vm := goja.New()
	realm, err := NewRealm(vm)
	if err != nil {
		t.Fatal(err)
	}
	first := realm.New(context.Background(), &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)}, &workflow.Result{})
	set := first.Kinde().Get("accessToken").ToObject(vm).Get("setCustomClaim")
	second := realm.New(context.Background(), &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindIDToken)}, &workflow.Result{})
	second.Kinde()
	fn, _ := goja.AssertFunction(set)
	_, err = fn(goja.Undefined(), vm.ToValue("a"), vm.ToValue(1))
	ex, ok := err.(*goja.Exception)
	if !ok {
		t.Fatalf("want a JS exception, got %v", err)
	}
	if be := second.BindingError(ex.Value()); be == nil || be.Kind != ErrUnavailable {
		t.Errorf("BindingError = %+v (thrown %s)", be, ex.Value())
	}
}

// TestConsoleLongArray: logging a two-million-element array prints the
// first hundred items like Node and does not list every key.
func TestConsoleLongArray(t *testing.T) {
	s := newSandbox(t, &Config{})
	s.mustRun(t, `var big = new Array(2e6).fill(7)`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.mustRun(t, `console.log(big)`)
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("logging the array allocated %d MiB", grew>>20)
	}
	if got := s.res.Logs[0].Message; got != "[ "+strings.Repeat("7, ", 100)+"... 1999900 more items ]" {
		t.Errorf("got %.80q…", got)
	}
}

// TestHugeArgumentsNotExported: a huge array where a string, URL, number
// or URLSearchParams is expected is refused without copying it (goja's
// Export of an object copies it whole).
func TestHugeArgumentsNotExported(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.PostAuthentication, workflow.BindAuth, workflow.BindFetch, workflow.BindRisk)})
	s.mustRun(t, `var big = new Array(2e6).fill(7)`)
	for _, js := range []string{
		`kinde.auth.denyAccess(big)`,
		`kinde.fetch(big)`,
		`kinde.risk.setScore(big)`,
		`URLSearchParams.prototype.get.call(big, "a")`,
		`Object.getOwnPropertyDescriptor(URL.prototype, "href").get.call(big)`,
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := s.run(js)
		runtime.ReadMemStats(&after)
		if !strings.HasPrefix(err, "TypeError") {
			t.Errorf("%s: %q, want a TypeError", js, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Errorf("%s allocated %d MiB", js, grew>>20)
		}
	}
}

// TestFetchRequestBounded: too many or too large headers and a body over
// the request limit are refused before anything is sent.
func TestFetchRequestBounded(t *testing.T) {
	sent := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent++ }))
	defer srv.Close()
	s := newSandbox(t, &Config{Settings: declare(workflow.PostAuthentication, workflow.BindFetch),
		Net: &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}, MaxRequests: 100}})
	for js, want := range map[string]string{
		`kinde.fetch("` + srv.URL + `", {headers: Object.fromEntries(Array.from({length: 101}, (_, i) => ["h" + i, "v"]))})`: "TypeError: kinde.fetch: at most 100 headers may be sent, got 101",
		`kinde.fetch("` + srv.URL + `", {headers: {a: "x".repeat(40000)}})`:                                                  "TypeError: kinde.fetch: the headers are larger than 32768 bytes",
		`kinde.fetch("` + srv.URL + `", {method: "POST", body: "x".repeat((1 << 20) + 1)})`:                                  "Error: kinde.fetch: the request body for " + srv.Listener.Addr().String() + " is larger than the 1048576-byte limit",
		`kinde.fetch("` + srv.URL + `/" + "a/".repeat(50000))`:                                                               "TypeError: kinde.fetch: the URL is too complex: 50003 path separators in " + fmt.Sprint(len(srv.URL)+100001) + " bytes (separators × bytes may be at most 67108864)",
	} {
		if _, err := s.run(js); err != want {
			t.Errorf("%.60s…: %q, want %q", js, err, want)
		}
	}
	if sent != 0 {
		t.Errorf("%d requests reached the server", sent)
	}
}
