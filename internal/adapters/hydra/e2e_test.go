package hydra_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/adapters/adapterstest"
	"github.com/flowgate/flowgate/internal/adapters/hydra"
	"github.com/flowgate/flowgate/internal/testenv"
)

// The user workflow (failure policy stop) and the M2M one (continue) pick
// their behaviour from the granted scopes, so one Flowgate serves every
// case: "deny" denies, "fail" throws, "slow" waits on a server that never
// answers, "none" sets no claims.
const userWorkflow = `
export const workflowSettings = {
  id: "hydraTokens",
  trigger: "user:tokens_generation",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.accessToken": {}, "kinde.idToken": {}, "kinde.auth": {}, "kinde.fetch": {} },
};

export default async function (event: any) {
  const scope: string[] = event.request.auth.scope;
  if (scope.includes("deny")) { kinde.auth.denyAccess("not on the guest list"); return; }
  if (scope.includes("fail")) throw new Error("the workflow broke");
  if (scope.includes("slow")) kinde.fetch("SLOW_URL", { method: "GET", responseFormat: "text" });
  if (scope.includes("none")) return;
  kinde.accessToken.setCustomClaim("plan", "pro");
  kinde.accessToken.setCustomClaim("uid", event.context.user.id);
  kinde.idToken.setCustomClaim("nickname", "ada-" + event.context.auth.origin);
}
`

const m2mWorkflow = `
export const workflowSettings = {
  id: "hydraM2M",
  trigger: "m2m:token_generation",
  failurePolicy: { action: "continue" },
  bindings: { "kinde.m2mToken": {}, "kinde.fetch": {} },
};

export default async function (event: any) {
  const scope: string[] = event.request.auth.scope;
  if (scope.includes("fail")) throw new Error("the workflow broke");
  if (scope.includes("slow")) kinde.fetch("SLOW_URL", { method: "GET", responseFormat: "text" });
  kinde.m2mToken.setCustomClaim("tier", "gold");
  kinde.m2mToken.setCustomClaim("client", event.context.application.clientId);
}
`

type env struct {
	fg         *adapterstest.Flowgate
	hydra      *hydraServer // hook with the default timeout
	hydraHasty *hydraServer // hook with a 300ms timeout
	userClient client
	m2mClient  client
	hastyUser  client
	hastyM2M   client
}

func setup(t *testing.T) *env {
	t.Helper()
	bin := testenv.Hydra(t)
	// A server that never answers until the test ends: the "slow" workflows
	// wait on it, so only the hook's deadline can end them.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	u, _ := url.Parse(slow.URL)
	files := map[string]string{
		"kindeSrc/environment/workflows/tokensWorkflow.ts": strings.ReplaceAll(userWorkflow, "SLOW_URL", slow.URL),
		"kindeSrc/environment/workflows/m2mWorkflow.ts":    strings.ReplaceAll(m2mWorkflow, "SLOW_URL", slow.URL),
	}
	fg := adapterstest.StartFlowgate(t, files, []string{u.Host}, "hydraTokens", "hydraM2M")
	hook := fg.URL + "/api/v1/environments/production/adapters/hydra/token-hook"
	e := &env{fg: fg}
	e.hydra = startHydra(t, bin, hook, fg.RuntimeToken)
	e.hydraHasty = startHydra(t, bin, hook+"?timeout=300ms", fg.RuntimeToken)
	e.userClient = e.hydra.createClient(t, "authorization_code refresh_token")
	e.m2mClient = e.hydra.createClient(t, "client_credentials")
	e.hastyUser = e.hydraHasty.createClient(t, "authorization_code refresh_token")
	e.hastyM2M = e.hydraHasty.createClient(t, "client_credentials")
	return e
}

// TestHydraHookRequest reads what the real Hydra posts to a token hook and
// checks the event the adapter makes of it.
func TestHydraHookRequest(t *testing.T) {
	bin := testenv.Hydra(t)
	got := make(chan []byte, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	h := startHydra(t, bin, srv.URL, "x")
	c := h.createClient(t, "authorization_code refresh_token client_credentials")
	if tok := h.authorizationCode(t, c, "openid offline deny"); tok.Error != "" {
		t.Fatalf("token refused: %s", tok.Error)
	}
	m2m := h.clientCredentials(t, c, "claims")
	_ = m2m
	cases := []struct {
		name, trigger, want string
	}{
		{"authorization code", "user:tokens_generation", `{"context":{"application":{"clientId":"CLIENT"},"auth":{"isExistingSession":false,"origin":"authorization_code"},"user":{"id":"user-ada"},"workflow":{"trigger":"user:tokens_generation"}},"request":{"auth":{"audience":[],"scope":["openid","offline","deny"]}}}`},
		{"client credentials", "m2m:token_generation", `{"context":{"application":{"clientId":"CLIENT"},"workflow":{"trigger":"m2m:token_generation"}},"request":{"auth":{"audience":[],"scope":["claims"]}}}`},
	}
	for _, tc := range cases {
		var req hydra.HookRequest
		body := <-got
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		trigger, event := hydra.Event(&req)
		want := strings.ReplaceAll(tc.want, "CLIENT", c.ID)
		if trigger != tc.trigger || string(event) != want {
			t.Errorf("%s: got %s %s\nwant %s %s", tc.name, trigger, event, tc.trigger, want)
		}
	}
}

func TestHydraE2E(t *testing.T) {
	e := setup(t)

	t.Run("client credentials token carries the M2M workflow's claims", func(t *testing.T) {
		tok := e.hydra.clientCredentials(t, e.m2mClient, "claims")
		claims := jwtClaims(t, tok.AccessToken)
		ext, _ := claims["ext"].(map[string]any)
		if ext["tier"] != "gold" || ext["client"] != e.m2mClient.ID {
			t.Fatalf("access token ext = %v, want tier=gold and client=%s", ext, e.m2mClient.ID)
		}
		if claims["tier"] != "gold" {
			t.Fatalf("allowed top-level claim tier missing: %v", claims)
		}
	})

	t.Run("authorization code tokens carry the user workflow's claims, and so does a refresh", func(t *testing.T) {
		tok := e.hydra.authorizationCode(t, e.userClient, "openid offline claims")
		if tok.Error != "" {
			t.Fatalf("token refused: %s: %s", tok.Error, tok.ErrorDescription)
		}
		access := jwtClaims(t, tok.AccessToken)
		ext, _ := access["ext"].(map[string]any)
		if ext["plan"] != "pro" || ext["uid"] != "user-ada" {
			t.Fatalf("access token ext = %v, want plan=pro uid=user-ada", ext)
		}
		if ext["consent"] != "given" {
			t.Fatalf("the consent step's access-token claim was lost: %v", ext)
		}
		id := jwtClaims(t, tok.IDToken)
		if id["nickname"] != "ada-authorization_code" || id["consented"] != true || id["sub"] != "user-ada" {
			t.Fatalf("ID token = %v, want nickname from the workflow, consented from the consent step, sub user-ada", id)
		}
		ref := e.hydra.refresh(t, e.userClient, tok.RefreshToken)
		if ref.Error != "" {
			t.Fatalf("refresh refused: %s: %s", ref.Error, ref.ErrorDescription)
		}
		if id := jwtClaims(t, ref.IDToken); id["nickname"] != "ada-refresh_token" {
			t.Fatalf("refreshed ID token nickname = %v, want ada-refresh_token", id["nickname"])
		}
	})

	t.Run("a workflow that sets no claims leaves the tokens as they were", func(t *testing.T) {
		tok := e.hydra.authorizationCode(t, e.userClient, "openid none")
		if tok.Error != "" {
			t.Fatalf("token refused: %s", tok.Error)
		}
		ext, _ := jwtClaims(t, tok.AccessToken)["ext"].(map[string]any)
		if ext["consent"] != "given" || ext["plan"] != nil {
			t.Fatalf("access token ext = %v, want only the consent step's claim", ext)
		}
	})

	t.Run("a denying workflow makes Hydra refuse the token", func(t *testing.T) {
		tok := e.hydra.authorizationCode(t, e.userClient, "openid deny")
		if tok.AccessToken != "" || tok.Error != "access_denied" {
			t.Fatalf("got %+v, want no token and access_denied", tok)
		}
	})

	t.Run("a failing workflow with policy stop makes Hydra refuse the token", func(t *testing.T) {
		tok := e.hydra.authorizationCode(t, e.userClient, "openid fail")
		if tok.AccessToken != "" || tok.Error != "server_error" {
			t.Fatalf("got %+v, want no token and server_error", tok)
		}
	})

	t.Run("a failing workflow with policy continue lets Hydra issue the token unchanged", func(t *testing.T) {
		tok := e.hydra.clientCredentials(t, e.m2mClient, "fail")
		claims := jwtClaims(t, tok.AccessToken)
		if ext, _ := claims["ext"].(map[string]any); ext["tier"] != nil {
			t.Fatalf("claims = %v, want none from the failed workflow", claims)
		}
	})

	t.Run("a Flowgate that does not answer in time: policy stop refuses", func(t *testing.T) {
		tok := e.hydraHasty.authorizationCode(t, e.hastyUser, "openid slow")
		if tok.AccessToken != "" || tok.Error != "server_error" {
			t.Fatalf("got %+v, want no token and server_error", tok)
		}
	})

	t.Run("a Flowgate that does not answer in time: policy continue issues the token unchanged", func(t *testing.T) {
		tok := e.hydraHasty.clientCredentials(t, e.hastyM2M, "slow")
		claims := jwtClaims(t, tok.AccessToken)
		if ext, _ := claims["ext"].(map[string]any); ext["tier"] != nil {
			t.Fatalf("claims = %v, want none from the timed-out workflow", claims)
		}
	})

	t.Run("Flowgate never logs tokens or the runtime token", func(t *testing.T) {
		tok := e.hydra.clientCredentials(t, e.m2mClient, "claims")
		logs := e.fg.Logs()
		for _, secret := range []string{tok.AccessToken, e.fg.RuntimeToken, e.m2mClient.Secret} {
			if strings.Contains(logs, secret) {
				t.Fatalf("a secret reached Flowgate's log:\n%s", logs)
			}
		}
	})

	t.Run("Hydra with a wrong key is refused and issues no token", func(t *testing.T) {
		bad := startHydra(t, testenv.Hydra(t), e.fg.URL+"/api/v1/environments/production/adapters/hydra/token-hook", "not-the-token")
		c := bad.createClient(t, "client_credentials")
		tok := bad.tokenRequest(t, c, url.Values{"grant_type": {"client_credentials"}, "scope": {"claims"}})
		if tok.AccessToken != "" || tok.Error != "server_error" {
			t.Fatalf("got %+v, want no token", tok)
		}
	})
}

type hydraServer struct {
	public, admin, redirect string
	proc                    *adapterstest.Process
}

type client struct{ ID, Secret string }

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	IDToken          string `json:"id_token"`
	RefreshToken     string `json:"refresh_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func startHydra(t *testing.T, bin, hookURL, token string) *hydraServer {
	t.Helper()
	dir := t.TempDir()
	pub, adm := adapterstest.FreePort(t), adapterstest.FreePort(t)
	h := &hydraServer{
		public:   fmt.Sprintf("http://127.0.0.1:%d", pub),
		admin:    fmt.Sprintf("http://127.0.0.1:%d", adm),
		redirect: "http://127.0.0.1:1/callback",
	}
	cfg := fmt.Sprintf(`dsn: memory
serve:
  public: {host: 127.0.0.1, port: %d}
  admin: {host: 127.0.0.1, port: %d}
urls:
  self: {issuer: %s/}
  login: http://127.0.0.1:1/login
  consent: http://127.0.0.1:1/consent
secrets:
  system: ["flowgate-adapters-e2e-system-secret"]
strategies:
  access_token: jwt
oauth2:
  allowed_top_level_claims: [tier]
  token_hook:
    url: %q
    auth:
      type: api_key
      config: {in: header, name: Authorization, value: %q}
log:
  leak_sensitive_values: false
`, pub, adm, h.public, hookURL, "Bearer "+token)
	if err := os.WriteFile(filepath.Join(dir, "hydra.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h.proc = adapterstest.StartProcess(t, dir, bin, h.admin+"/health/ready", "serve", "all", "--dev", "-c", "hydra.yml")
	// Hydra makes 4096-bit RSA signing keys on first use, which takes longer
	// than its own write timeout on a busy machine; EC keys are made at once.
	for _, set := range []string{"hydra.openid.id-token", "hydra.jwt.access-token"} {
		body := `{"alg": "ES256", "use": "sig", "kid": "` + set + `-e2e"}`
		resp, err := http.Post(h.admin+"/admin/keys/"+set, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("create key set %s: %s %s", set, resp.Status, b)
		}
	}
	return h
}

func (h *hydraServer) createClient(t *testing.T, grants string) client {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"grant_types":                strings.Fields(grants),
		"response_types":             []string{"code"},
		"scope":                      "openid offline claims none deny fail slow",
		"redirect_uris":              []string{h.redirect},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	resp, err := http.Post(h.admin+"/admin/clients", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || json.Unmarshal(b, &c) != nil {
		t.Fatalf("create client: %s %s", resp.Status, b)
	}
	return client{c.ID, c.Secret}
}

func (h *hydraServer) tokenRequest(t *testing.T, c client, form url.Values) tokenResponse {
	t.Helper()
	req, _ := http.NewRequest("POST", h.public+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok tokenResponse
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatalf("token endpoint: %s %s", resp.Status, b)
	}
	if (resp.StatusCode == 200) != (tok.AccessToken != "") {
		t.Fatalf("token endpoint: %s %s", resp.Status, b)
	}
	return tok
}

func (h *hydraServer) clientCredentials(t *testing.T, c client, scope string) tokenResponse {
	t.Helper()
	tok := h.tokenRequest(t, c, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
	if tok.Error != "" {
		t.Fatalf("client credentials refused: %s: %s\nhydra:\n%s", tok.Error, tok.ErrorDescription, lastLines(h.proc.Output(), 20))
	}
	return tok
}

func (h *hydraServer) refresh(t *testing.T, c client, refresh string) tokenResponse {
	t.Helper()
	return h.tokenRequest(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

// authorizationCode runs the whole browser flow: Hydra's /oauth2/auth, the
// login and consent accepted through the admin API (as a login UI does),
// and the code exchanged at the token endpoint, where the hook runs.
func (h *hydraServer) authorizationCode(t *testing.T, c client, scope string) tokenResponse {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {c.ID}, "response_type": {"code"}, "scope": {scope},
		"redirect_uri": {h.redirect}, "state": {"state-0123456789"}}
	loc := h.public + "/oauth2/auth?" + q.Encode()
	for range 10 {
		if strings.HasPrefix(loc, h.redirect) {
			u, _ := url.Parse(loc)
			code := u.Query().Get("code")
			if code == "" {
				t.Fatalf("no code in the redirect %s", loc)
			}
			return h.tokenRequest(t, c, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {h.redirect}})
		}
		u, _ := url.Parse(loc)
		switch {
		case u.Path == "/login":
			loc = h.accept(t, "login", u.Query().Get("login_challenge"), map[string]any{"subject": "user-ada"})
			continue
		case u.Path == "/consent":
			loc = h.accept(t, "consent", u.Query().Get("consent_challenge"), map[string]any{
				"grant_scope": strings.Fields(scope),
				"session": map[string]any{
					"access_token": map[string]any{"consent": "given"},
					"id_token":     map[string]any{"consented": true},
				},
			})
			continue
		}
		resp, err := browser.Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		next := resp.Header.Get("Location")
		if next == "" {
			t.Fatalf("GET %s: %s without a redirect", loc, resp.Status)
		}
		nu, err := u.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		loc = nu.String()
	}
	t.Fatal("the authorization flow did not reach the redirect URI")
	return tokenResponse{}
}

func (h *hydraServer) accept(t *testing.T, what, challenge string, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("PUT", h.admin+"/admin/oauth2/auth/requests/"+what+"/accept?"+what+"_challenge="+url.QueryEscape(challenge), strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		RedirectTo string `json:"redirect_to"`
	}
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(rb, &out) != nil {
		t.Fatalf("accept %s: %s %s", what, resp.Status, rb)
	}
	return out.RedirectTo
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20q…", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
