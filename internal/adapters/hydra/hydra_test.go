package hydra_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/adapters/adapterstest"
	"github.com/flowgate/flowgate/internal/adapters/hydra"
	"github.com/flowgate/flowgate/internal/workflow"
)

// FuzzEvent: whatever Hydra (or anyone holding the key) posts, the event is
// one JSON object for a trigger the adapter knows.
func FuzzEvent(f *testing.F) {
	f.Add(`{"session":{"extra":{"a":1},"id_token":{"id_token_claims":{"ext":{"b":2}},"subject":"u"}},"request":{"client_id":"c","grant_types":["authorization_code"],"requested_scopes":["openid"]}}`)
	f.Add(`{"request":{"grant_types":["client_credentials"],"granted_scopes":["x"],"granted_audience":["api"]}}`)
	f.Add(`{"session":{"id_token":null},"request":{"grant_types":[]}}`)
	f.Fuzz(func(t *testing.T, body string) {
		var req hydra.HookRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		trigger, event := hydra.Event(&req)
		var m map[string]any
		if err := json.Unmarshal(event, &m); err != nil || m["request"] == nil || m["context"] == nil {
			t.Fatalf("event %s: %v", event, err)
		}
		if trigger != "user:tokens_generation" && trigger != "m2m:token_generation" {
			t.Fatalf("trigger %q", trigger)
		}
	})
}

// fixedRuntime answers every call with one Result: it isolates the
// adapter's own work (decode, map, decide, encode) for BenchmarkHandler.
type fixedRuntime struct{ res *workflow.Result }

func (fixedRuntime) RuntimeTokenOK(context.Context, string, string) (bool, error) { return true, nil }
func (f fixedRuntime) Invoke(context.Context, string, string, []byte) (*workflow.Result, error) {
	return f.res, nil
}

// BenchmarkHandler is the token hook's cost on top of the invocation: what
// it adds to every token Hydra issues.
func BenchmarkHandler(b *testing.B) {
	rt := fixedRuntime{&workflow.Result{Status: "succeeded", FailurePolicy: "stop",
		AccessToken: &workflow.Token{CustomClaims: map[string]any{"plan": "pro", "uid": "u1"}},
		IDToken:     &workflow.Token{CustomClaims: map[string]any{"nickname": "ada"}}}}
	h := hydra.New(rt, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const body = `{"session":{"id_token":{"id_token_claims":{"jti":"","iss":"http://127.0.0.1:33941/","sub":"user-ada","aud":["2e80b0b2"],"nonce":"","exp":"0001-01-01T00:00:00Z","iat":"2026-12-07T02:27:23Z","rat":"2026-12-07T02:27:23Z","auth_time":"2026-12-07T02:27:23Z","at_hash":"","acr":"","amr":[],"c_hash":"","ext":{"consented":true,"sid":"f27f52c0"}},"headers":{"extra":{"kid":"k"}},"expires_at":{"access_token":"2026-12-07T03:27:23Z"},"username":"","subject":"user-ada"},"extra":{"consent":"given"},"kid":"k","client_id":"2e80b0b2","consent_challenge":"4f37e8b4","exclude_not_before_claim":false,"allowed_top_level_claims":["tier"],"mirror_top_level_claims":true},"request":{"client_id":"2e80b0b2","requested_scopes":["openid","offline"],"granted_scopes":[],"granted_audience":[],"grant_types":["authorization_code"],"payload":{"grant_type":["authorization_code"]}}}`
	b.ReportAllocs()
	cpu := adapterstest.CPUTime()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/environments/production/adapters/hydra/token-hook", strings.NewReader(body))
		req.SetPathValue("env", "production")
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64((adapterstest.CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// TestAnswers: each Result becomes Hydra's answer (status and session).
func TestAnswers(t *testing.T) {
	const user = `{"session":{"extra":{"consent":"given"},"id_token":{"id_token_claims":{"ext":{"sid":"s1","consented":true}},"subject":"u1"}},"request":{"client_id":"c1","grant_types":["authorization_code"]}}`
	const m2m = `{"session":{"extra":{}},"request":{"client_id":"c1","grant_types":["client_credentials"]}}`
	tok := func(reset bool, kv ...any) *workflow.Token {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return &workflow.Token{CustomClaims: m, ResetClaims: reset}
	}
	cases := []struct {
		name, body string
		res        *workflow.Result
		status     int
		want       string
	}{
		{"claims merged over the consent step's", user, &workflow.Result{Status: "succeeded",
			AccessToken: tok(false, "plan", "pro"), IDToken: tok(false, "nick", "ada")}, 200,
			`{"session":{"access_token":{"consent":"given","plan":"pro"},"id_token":{"consented":true,"nick":"ada","sid":"s1"}}}`},
		{"reset drops the consent step's claims", user, &workflow.Result{Status: "succeeded",
			AccessToken: tok(true, "plan", "pro")}, 200,
			`{"session":{"access_token":{"plan":"pro"},"id_token":{"consented":true,"sid":"s1"}}}`},
		{"claims Hydra sets itself are never changed", user, &workflow.Result{Status: "succeeded",
			IDToken: tok(false, "sub", "admin", "sid", "x", "nick", "ada")}, 200,
			`{"session":{"access_token":{"consent":"given"},"id_token":{"consented":true,"nick":"ada","sid":"s1"}}}`},
		{"m2m uses the M2M token's claims, not the user ones", m2m, &workflow.Result{Status: "succeeded",
			M2MToken: tok(false, "tier", "gold"), AccessToken: tok(false, "plan", "pro")}, 200,
			`{"session":{"access_token":{"tier":"gold"},"id_token":{}}}`},
		{"no claims", user, &workflow.Result{Status: "succeeded"}, 204, ``},
		{"skipped", user, &workflow.Result{Status: "skipped"}, 204, ``},
		{"denied", user, &workflow.Result{Status: "succeeded", Auth: &workflow.Auth{Denied: true, Reason: "no"},
			AccessToken: tok(false, "plan", "pro")}, 403, `access_denied`},
		{"failed, stop", user, &workflow.Result{Status: "failed", FailurePolicy: "stop"}, hydra.StatusFailed, `workflow_failed`},
		{"failed, continue", user, &workflow.Result{Status: "failed", FailurePolicy: "continue"}, 204, ``},
		{"failed without a policy stops", user, &workflow.Result{Status: "failed"}, hydra.StatusFailed, `workflow_failed`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := hydra.New(fixedRuntime{tc.res}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			req := httptest.NewRequest("POST", "/x", strings.NewReader(tc.body))
			req.SetPathValue("env", "production")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
}

// errRuntime cannot run anything, as when the database is away and nothing
// is cached.
type errRuntime struct{}

func (errRuntime) RuntimeTokenOK(context.Context, string, string) (bool, error) { return true, nil }
func (errRuntime) Invoke(context.Context, string, string, []byte) (*workflow.Result, error) {
	return nil, errors.New("database is away")
}

func TestUnavailablePolicy(t *testing.T) {
	for _, tc := range []struct {
		query  string
		status int
	}{{"", hydra.StatusFailed}, {"?unavailable=stop", hydra.StatusFailed}, {"?unavailable=continue", 204}} {
		var logs strings.Builder
		h := hydra.New(errRuntime{}, slog.New(slog.NewTextHandler(&logs, nil)))
		req := httptest.NewRequest("POST", "/x"+tc.query, strings.NewReader(`{"request":{"grant_types":["client_credentials"]}}`))
		req.SetPathValue("env", "production")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.status {
			t.Errorf("%q: got %d, want %d", tc.query, w.Code, tc.status)
		}
		if !strings.Contains(logs.String(), "could not run the workflow") {
			t.Errorf("%q: not logged: %s", tc.query, logs.String())
		}
	}
}
