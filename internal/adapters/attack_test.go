package adapters_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/adapters/adapterstest"
)

const tokensWorkflow = `
export const workflowSettings = {
  id: "attackTokens",
  trigger: "user:tokens_generation",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.accessToken": {} },
};
export default async function (event: any) {
  kinde.accessToken.setCustomClaim("plan", "pro");
}
`

// TestHookEndpointsRefuseBadCalls sends the adapter endpoints what a
// hostile or misconfigured caller would, against a real Flowgate.
func TestHookEndpointsRefuseBadCalls(t *testing.T) {
	fg := adapterstest.StartFlowgate(t, map[string]string{
		"kindeSrc/environment/workflows/tokensWorkflow.ts": tokensWorkflow,
	}, nil, "attackTokens")
	const hydraBody = `{"session": {"extra": {}, "id_token": {"subject": "u1"}}, "request": {"client_id": "c1", "grant_types": ["authorization_code"]}}`
	const kratosBody = `{"flow": {"id": "f1", "request_url": "http://kratos.test/self-service/registration/api"}, "identity": {"id": "i1", "traits": {"email": "a@b.test"}}}`
	hydraPath := "/api/v1/environments/production/adapters/hydra/token-hook"
	kratosPath := "/api/v1/environments/production/adapters/kratos/"
	bearer := "Bearer " + fg.RuntimeToken
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("kratos:"+fg.RuntimeToken))

	cases := []struct {
		name, path, auth, body string
		want                   int
		wantIn                 string
	}{
		{"hydra: right token", hydraPath, bearer, hydraBody, 200, `"plan":"pro"`},
		{"hydra: no token", hydraPath, "", hydraBody, 401, "runtime token"},
		{"hydra: wrong token", hydraPath, "Bearer nope", hydraBody, 401, "runtime token"},
		{"hydra: the admin token is not a runtime token", hydraPath, "Bearer " + fg.AdminToken, hydraBody, 401, "runtime token"},
		{"hydra: token of another environment", "/api/v1/environments/staging/adapters/hydra/token-hook", bearer, hydraBody, 401, "runtime token"},
		{"hydra: bad environment name", "/api/v1/environments/bad~name/adapters/hydra/token-hook", bearer, hydraBody, 400, "environment name"},
		{"hydra: not JSON", hydraPath, bearer, `{"session": `, 400, "not Hydra's token hook request"},
		{"hydra: wrong types", hydraPath, bearer, `{"request": {"grant_types": "client_credentials"}}`, 400, "not Hydra's token hook request"},
		{"hydra: body over 1 MiB", hydraPath, bearer, `{"x": "` + strings.Repeat("a", 1<<20) + `"}`, 413, "larger than"},
		{"hydra: timeout out of range", hydraPath + "?timeout=1h", bearer, hydraBody, 400, "timeout"},
		{"hydra: timeout not a duration", hydraPath + "?timeout=soon", bearer, hydraBody, 400, "timeout"},
		{"hydra: unknown unavailable policy", hydraPath + "?unavailable=maybe", bearer, hydraBody, 400, "unavailable"},
		{"kratos: basic auth with the token as password", kratosPath + "registration", basic, kratosBody, 204, ""},
		{"kratos: wrong basic password", kratosPath + "registration", "Basic " + base64.StdEncoding.EncodeToString([]byte("kratos:nope")), kratosBody, 401, "runtime token"},
		{"kratos: unknown hook", kratosPath + "recovery", bearer, kratosBody, 404, "registration, login"},
		{"kratos: not JSON", kratosPath + "login", bearer, `[1,2`, 400, "not a Kratos web hook context"},
		{"kratos: password hook without the password", kratosPath + "registration-password", bearer, kratosBody, 403, "transient_payload.password"},
		{"kratos: password of the wrong type", kratosPath + "registration-password", bearer, `{"flow": {"transient_payload": {"password": 12345678}}}`, 403, "transient_payload.password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", fg.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want || !strings.Contains(string(b), tc.wantIn) {
				t.Fatalf("got %d %s, want %d containing %q", resp.StatusCode, b, tc.want, tc.wantIn)
			}
			if resp.StatusCode >= 400 && !json.Valid(b) {
				t.Fatalf("error body is not JSON: %s", b)
			}
			if strings.Contains(string(b), fg.RuntimeToken) {
				t.Fatal("the answer echoes the runtime token")
			}
		})
	}
}
