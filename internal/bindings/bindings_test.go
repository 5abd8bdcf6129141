package bindings

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

func TestKindeHasExactlyDeclaredAllowedBindings(t *testing.T) {
	all := workflow.Bindings
	tests := []struct {
		name     string
		trigger  string
		declared []string
		want     string // sorted Object.keys(kinde)
	}{
		{"nothing declared", workflow.UserTokenGeneration, nil, ""},
		{"tokens generation, everything declared", workflow.UserTokenGeneration, all,
			"accessToken,auth,cache,env,fetch,idToken,localization,risk,secureFetch,ssoSession"},
		{"m2m, everything declared", workflow.M2MTokenGeneration, all,
			"cache,env,fetch,localization,m2mToken,risk,secureFetch"},
		{"pre-mfa", workflow.UserPreMFA, all, "auth,cache,env,fetch,localization,mfa,risk,secureFetch"},
		{"plan selection", workflow.PlanSelection, []string{"kinde.plan", "kinde.auth", "kinde.env"}, "env,plan"},
		{"password widget", workflow.NewPasswordProvided, []string{"kinde.widget", "kinde.auth"}, "auth,widget"},
		{"cache comes with fetch", workflow.PostAuthentication, []string{"kinde.fetch"}, "cache,fetch"},
		{"cache comes with secureFetch", workflow.PostAuthentication, []string{"kinde.secureFetch"}, "cache,secureFetch"},
		{"url and console are not kinde members", workflow.PostAuthentication, []string{"url", "console"}, ""},
		{"undeclared idToken absent", workflow.UserTokenGeneration, []string{"kinde.accessToken"}, "accessToken"},
		{"unknown binding ignored", workflow.UserTokenGeneration, []string{"kinde.nope"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, &Config{Settings: declare(tc.trigger, tc.declared...)})
			got := s.mustRun(t, `Object.keys(kinde).sort().join(",")`)
			if got != tc.want {
				t.Errorf("kinde keys = %q, want %q", got, tc.want)
			}
			if typ := s.mustRun(t, `typeof kinde.idToken`); !strings.Contains(tc.want, "idToken") && typ != "undefined" {
				t.Errorf("typeof kinde.idToken = %v, want undefined", typ)
			}
		})
	}
}

func TestEffectsRecordedInResult(t *testing.T) {
	tests := []struct {
		name    string
		trigger string
		binding string
		js      string
		want    string // JSON of the Result (logs and duration excluded)
	}{
		{"access token claims", workflow.UserTokenGeneration, "kinde.accessToken",
			`kinde.accessToken.setCustomClaim("roles", ["a","b"]); kinde.accessToken.setCustomClaim("n", 1.5);
			 kinde.accessToken.setCustomClaim("when", new Date(0))`,
			`{"status":"","accessToken":{"customClaims":{"n":1.5,"roles":["a","b"],"when":"1970-01-01T00:00:00.000Z"}},"durationMs":0}`},
		{"claim set to undefined is removed", workflow.UserTokenGeneration, "kinde.idToken",
			`kinde.idToken.setCustomClaim("a", 1); kinde.idToken.setCustomClaim("a", undefined)`,
			`{"status":"","idToken":{"customClaims":{}},"durationMs":0}`},
		{"m2m claims", workflow.M2MTokenGeneration, "kinde.m2mToken",
			`kinde.m2mToken.setCustomClaim("org", {code: "org_1"})`,
			`{"status":"","m2mToken":{"customClaims":{"org":{"code":"org_1"}}},"durationMs":0}`},
		{"deny access continues", workflow.PostAuthentication, "kinde.auth",
			`kinde.auth.denyAccess("blocked"); globalThis.after = 1`,
			`{"status":"","auth":{"denied":true,"reason":"blocked"},"durationMs":0}`},
		{"mfa", workflow.UserPreMFA, "kinde.mfa", `kinde.mfa.setEnforcementPolicy("skip")`,
			`{"status":"","mfa":{"enforcementPolicy":"skip"},"durationMs":0}`},
		{"plan deny selection", workflow.PlanSelection, "kinde.plan", `kinde.plan.denySelection("no", ["unpaid"])`,
			`{"status":"","plan":{"denySelection":{"message":"no","reasons":["unpaid"]}},"durationMs":0}`},
		{"plan deny selection without reasons", workflow.PlanSelection, "kinde.plan", `kinde.plan.denySelection("no")`,
			`{"status":"","plan":{"denySelection":{"message":"no","reasons":[]}},"durationMs":0}`},
		{"plan deny cancellation", workflow.PlanCancellationRequest, "kinde.plan", `kinde.plan.denyCancellation("contract")`,
			`{"status":"","plan":{"denyCancellation":{"reason":"contract"}},"durationMs":0}`},
		{"widget", workflow.NewPasswordProvided, "kinde.widget",
			`kinde.widget.invalidateFormField("p_first_password", "too short")`,
			`{"status":"","widget":{"invalidFormFields":{"p_first_password":"too short"}},"durationMs":0}`},
		{"risk", workflow.PostAuthentication, "kinde.risk", `kinde.risk.setScore(42); if (kinde.risk.getScore() !== 42) throw 1`,
			`{"status":"","risk":{"score":42},"durationMs":0}`},
		{"sso session", workflow.UserTokenGeneration, "kinde.ssoSession", `kinde.ssoSession.setPolicy("non_persistent")`,
			`{"status":"","ssoSession":{"policy":"non_persistent"},"durationMs":0}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, &Config{Settings: declare(tc.trigger, tc.binding)})
			s.mustRun(t, tc.js)
			s.res.Logs = nil
			got, _ := json.Marshal(s.res)
			if string(got) != tc.want {
				t.Errorf("result\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestResetClaimsRecorded(t *testing.T) {
	set := declare(workflow.UserTokenGeneration)
	set.Bindings[workflow.BindIDToken] = workflow.BindingSettings{ResetClaims: true}
	s := newSandbox(t, &Config{Settings: set})
	if s.res.IDToken == nil || !s.res.IDToken.ResetClaims {
		t.Fatalf("IDToken = %+v, want ResetClaims", s.res.IDToken)
	}
}

func TestGetCustomClaimsIsPlainObjectOfClaimsSoFar(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
	got := s.mustRun(t, `kinde.accessToken.setCustomClaim("a", {b: [1]});
		const c = kinde.accessToken.getCustomClaims();
		JSON.stringify(c) + " " + Object.getPrototypeOf(c === null ? {} : c).constructor.name`)
	if got != `{"a":{"b":[1]}} Object` {
		t.Errorf("got %v", got)
	}
}

// Before any claim is set, getCustomClaims is what JSON.parse("{}") gives:
// a new plain object per call, a copy (writing to it sets no claim).
func TestGetCustomClaimsBeforeAnyClaim(t *testing.T) {
	tests := []struct{ name, js, want string }{
		{"plain object", `const c = kinde.accessToken.getCustomClaims();
			Object.getPrototypeOf(c) === Object.prototype && Object.isExtensible(c) && JSON.stringify(c)`, "{}"},
		{"new each call", `kinde.accessToken.getCustomClaims() !== kinde.accessToken.getCustomClaims()`, "true"},
		{"a copy", `kinde.accessToken.getCustomClaims().a = 1; JSON.stringify(kinde.accessToken.getCustomClaims())`, "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
			if got := s.mustRun(t, tt.js); fmt.Sprint(got) != tt.want {
				t.Errorf("got %v, want %s", got, tt.want)
			}
			if n := len(s.res.AccessToken.CustomClaims); n != 0 {
				t.Errorf("%d claims set", n)
			}
		})
	}
}

func TestProhibitedClaimsRefusedPerToken(t *testing.T) {
	tests := []struct {
		binding, claim string
		refused        bool
	}{
		{workflow.BindAccessToken, "sub", true},
		{workflow.BindAccessToken, "scp", true},
		{workflow.BindAccessToken, "auth_time", false},
		{workflow.BindIDToken, "auth_time", true},
		{workflow.BindIDToken, "updated_at", true},
		{workflow.BindIDToken, "scp", false},
		{workflow.BindM2MToken, "gty", true},
		{workflow.BindM2MToken, "aud", true},
		{workflow.BindM2MToken, "permissions", false},
	}
	for _, tc := range tests {
		t.Run(tc.binding+"/"+tc.claim, func(t *testing.T) {
			trigger := workflow.UserTokenGeneration
			if tc.binding == workflow.BindM2MToken {
				trigger = workflow.M2MTokenGeneration
			}
			s := newSandbox(t, &Config{Settings: declare(trigger, tc.binding)})
			s.mustRun(t, tc.binding+`.setCustomClaim("`+tc.claim+`", "x")`)
			tok := map[string]*workflow.Token{workflow.BindAccessToken: s.res.AccessToken,
				workflow.BindIDToken: s.res.IDToken, workflow.BindM2MToken: s.res.M2MToken}[tc.binding]
			_, set := tok.CustomClaims[tc.claim]
			if set == tc.refused {
				t.Errorf("claim set = %v, want refused = %v", set, tc.refused)
			}
			warned := strings.Contains(logText(s.res), `warn: `+tc.binding+`.setCustomClaim: claim "`+tc.claim+`" is reserved`)
			if warned != tc.refused {
				t.Errorf("logs = %q", logText(s.res))
			}
		})
	}
}

func TestClaimSizeCap(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
	s.mustRun(t, `kinde.accessToken.setCustomClaim("big", "x".repeat(40000))`)
	s.mustRun(t, `kinde.accessToken.setCustomClaim("big", "y".repeat(60000))`) // replacing counts once
	_, err := s.run(`kinde.accessToken.setCustomClaim("more", "z".repeat(10000))`)
	if !strings.Contains(err, `claim "more" would make this token's custom claims larger than 65536 bytes`) {
		t.Fatalf("error = %q", err)
	}
	if _, ok := s.res.AccessToken.CustomClaims["more"]; ok {
		t.Error("claim over the cap was set")
	}
}

func TestEnvBinding(t *testing.T) {
	s := newSandbox(t, &Config{
		Settings: declare(workflow.PostAuthentication, workflow.BindEnv),
		Env:      map[string]EnvVar{"PLAIN": {Value: "v"}, "SECRET": {Value: "s3cret", IsSecret: true}},
	})
	got := s.mustRun(t, `JSON.stringify([kinde.env.get("PLAIN"), kinde.env.getEnvironmentVariable("SECRET"),
		kinde.env.get("MISSING") === undefined])`)
	if got != `[{"value":"v","isSecret":false},{"value":"s3cret","isSecret":true},true]` {
		t.Errorf("got %v", got)
	}
}

func TestLocalization(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.PostAuthentication, workflow.BindLocalization),
		Localization: map[string]string{"hello": "Bonjour"}})
	if got := s.mustRun(t, `kinde.localization.get("hello") + "|" + kinde.localization.get("nope")`); got != "Bonjour|" {
		t.Errorf("got %q", got)
	}
}

func TestBadArgumentsThrowTypeErrors(t *testing.T) {
	all := declare(workflow.UserTokenGeneration, workflow.Bindings...)
	tests := []struct{ js, want string }{
		{`kinde.accessToken.setCustomClaim(1, 2)`, "TypeError: kinde.accessToken.setCustomClaim: name must be a string, got number"},
		{`kinde.accessToken.setCustomClaim("", 2)`, "TypeError: kinde.accessToken.setCustomClaim: name must not be empty"},
		{`kinde.accessToken.setCustomClaim("b", 10n)`, "TypeError"},
		{`kinde.auth.denyAccess({})`, "TypeError: kinde.auth.denyAccess: reason must be a string, got object"},
		{`kinde.env.get()`, "TypeError: kinde.env.get: key must be a string, got undefined"},
		{`kinde.ssoSession.setPolicy("forever")`, `TypeError: kinde.ssoSession.setPolicy: policy must be "persistent" or "non_persistent", got "forever"`},
		{`kinde.risk.setScore("high")`, "TypeError: kinde.risk.setScore: score must be a finite number, got string"},
		{`kinde.fetch(42)`, "TypeError: kinde.fetch: url must be a string or URL, got number"},
		{`kinde.fetch("https://example.com", {method: "GET /x"})`, "TypeError: kinde.fetch: method must be an HTTP method name"},
		{`kinde.fetch("https://example.com", {responseFormat: "xml"})`, `TypeError: kinde.fetch: responseFormat must be "json" or "text"`},
		{`kinde.fetch("https://example.com", {headers: {"a b": "c"}})`, `TypeError: kinde.fetch: invalid header name "a b"`},
		{`kinde.cache.jwtToken("t", {})`, "TypeError: kinde.cache.jwtToken: options.onMissingOrExpired must be a function"},
		{`kinde.cache.jwtToken("t", {onMissingOrExpired(){return "x"}, validation: {key: {type: "pem"}}})`,
			`TypeError: kinde.cache.jwtToken: validation.key.type must be "jwks" or "static"`},
	}
	for _, tc := range tests {
		t.Run(tc.js, func(t *testing.T) {
			s := newSandbox(t, &Config{Settings: all})
			_, err := s.run(tc.js)
			if !strings.HasPrefix(err, tc.want) {
				t.Errorf("error = %q, want prefix %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ trigger, js, want string }{
		{workflow.UserPreMFA, `kinde.mfa.setEnforcementPolicy("maybe")`, `TypeError: kinde.mfa.setEnforcementPolicy: policy must be "required" or "skip", got "maybe"`},
		{workflow.PlanSelection, `kinde.plan.denySelection("m", "r")`, "TypeError: kinde.plan.denySelection: reasons must be an array of strings, got string"},
		{workflow.PlanSelection, `kinde.plan.denySelection("m", [1])`, "TypeError: kinde.plan.denySelection: reasons[0] must be a string, got number"},
		{workflow.NewPasswordProvided, `kinde.widget.invalidateFormField("p_password")`, "TypeError: kinde.widget.invalidateFormField: message must be a string, got undefined"},
	} {
		s := newSandbox(t, &Config{Settings: declare(tc.trigger, workflow.Bindings...)})
		if _, err := s.run(tc.js); err != tc.want {
			t.Errorf("%s: error = %q, want %q", tc.js, err, tc.want)
		}
	}
}
