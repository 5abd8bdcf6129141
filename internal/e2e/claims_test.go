package e2e

import (
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
)

// TestTokenClaimHelpers: accessTokenCustomClaims, idTokenCustomClaims and
// getEnvironmentVariable (plain, secret and missing) on user:tokens_generation.
func TestTokenClaimHelpers(t *testing.T) {
	r := checkRepo(t, "claims")
	res := r.run(t, "tokens", `{"context": {"user": {"id": "kp_1"}, "workflow": {"trigger": "user:tokens_generation"}}}`,
		&bindings.Config{Env: map[string]bindings.EnvVar{
			"PLAN":       {Value: "pro"},
			"API_SECRET": {Value: "s3cr3t-value", IsSecret: true},
		}})
	mustSucceed(t, res)
	if got := asJSON(t, res.AccessToken.CustomClaims); got != `{"plan":"pro","region":"eu","roles":["admin","billing"]}` {
		t.Errorf("access token claims %s", got)
	}
	if got := asJSON(t, res.IDToken.CustomClaims); got != `{"displayName":"user kp_1"}` {
		t.Errorf("id token claims %s", got)
	}
	if got, want := logLines(res), "info: secret is *** secret flag true\ninfo: missing is undefined\n"; got != want {
		t.Errorf("logs %q, want %q", got, want)
	}

	// Without PLAN the library's ?.value falls back.
	res = r.run(t, "tokens", `{"context": {"user": {"id": "kp_2"}}}`, nil)
	mustSucceed(t, res)
	if got := res.AccessToken.CustomClaims["plan"]; got != "free" {
		t.Errorf("plan without env = %v", got)
	}
}

// TestM2MClaimHelper: m2mTokenClaims on m2m:token_generation.
func TestM2MClaimHelper(t *testing.T) {
	r := checkRepo(t, "claims")
	res := r.run(t, "m2m", `{"request": {"auth": {"audience": ["https://api.example.com"], "scope": ["read:users", "write:users"]}},
		"context": {"application": {"clientId": "m2m_app"}, "workflow": {"trigger": "m2m:token_generation"}}}`, nil)
	mustSucceed(t, res)
	if got := asJSON(t, res.M2MToken.CustomClaims); got != `{"client":"m2m_app","scopes":["read:users","write:users"]}` {
		t.Errorf("m2m claims %s", got)
	}
	if res.AccessToken != nil || res.IDToken != nil {
		t.Errorf("user token claims on an m2m run: %+v %+v", res.AccessToken, res.IDToken)
	}
}
