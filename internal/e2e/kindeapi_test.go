package e2e

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
)

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signRS256 makes the kind of access token Kinde's /oauth2/token returns.
func signRS256(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(claims)
	input := b64url(h) + "." + b64url(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64url(sig)
}

// TestCreateKindeAPIAgainstLocalKinde: createKindeAPI gets an M2M token
// with getM2MToken (client credentials at /oauth2/token, validated against
// /.well-known/jwks.json and cached) and calls the management API with it.
// The requests are checked byte for byte; a second invocation reuses the
// cached token.
func TestCreateKindeAPIAgainstLocalKinde(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": b64url(key.N.Bytes()), "e": b64url(big.NewInt(int64(key.E)).Bytes()),
	}}})
	var token string
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/oauth2/token":
			json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": ""})
		case r.URL.Path == "/.well-known/jwks.json":
			w.Write(jwks)
		case r.Method == "GET" && r.URL.Path == "/api/v1/users" && r.Header.Get("Authorization") == "Bearer "+token:
			io.WriteString(w, `{"id": "kp_1", "plan": "team"}`)
		case r.Method == "GET" && r.URL.Path == "/api/v1/roles" && r.Header.Get("Authorization") == "Bearer "+token:
			io.WriteString(w, `{"roles": ["admin", "viewer"]}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors": [{"code": "UNAUTHORIZED"}]}`)
		}
	})
	domain := rec.srv.URL
	token = signRS256(t, key, "k1", map[string]any{
		"iss": domain, "aud": []string{domain + "/api"}, "azp": "cid", "gty": []string{"client_credentials"},
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "scope": "",
	})

	r := checkRepo(t, "kindeapi")
	cache := bindings.NewTokenCache()
	cfg := func() *bindings.Config {
		return &bindings.Config{
			Env: map[string]bindings.EnvVar{
				"KINDE_WF_M2M_CLIENT_ID":     {Value: "cid"},
				"KINDE_WF_M2M_CLIENT_SECRET": {Value: "c+secret/=&", IsSecret: true},
			},
			Net:   &bindings.NetPolicy{AllowHosts: []string{rec.host()}},
			Cache: cache,
		}
	}
	event := fmt.Sprintf(`{"context": {"domains": {"kindeDomain": %q}, "user": {"id": "kp_1"}, "workflow": {"trigger": "user:tokens_generation"}}}`, domain)
	for run := 1; run <= 2; run++ {
		res := r.run(t, "kindeApi", event, cfg())
		mustSucceed(t, res)
		if got := asJSON(t, res.AccessToken.CustomClaims); got != `{"plan":"team","roles":["admin","viewer"]}` {
			t.Errorf("run %d claims %s", run, got)
		}
	}

	var tokenReqs, apiReqs []wire
	for _, w := range rec.requests() {
		switch w.Path {
		case "/oauth2/token":
			tokenReqs = append(tokenReqs, w)
		case "/api/v1/users", "/api/v1/roles":
			apiReqs = append(apiReqs, w)
		}
	}
	if len(tokenReqs) != 1 {
		t.Fatalf("%d token requests; the second invocation must use the cached token", len(tokenReqs))
	}
	tr := tokenReqs[0]
	wantForm := "audience=" + url.QueryEscape(domain+"/api") + "&grant_type=client_credentials&client_id=cid&client_secret=c%2Bsecret%2F%3D%26&scope="
	if tr.Method != "POST" || tr.Body != wantForm {
		t.Errorf("token request %s body\n got %s\nwant %s", tr.Method, tr.Body, wantForm)
	}
	if ct := tr.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("token request Content-Type %q", ct)
	}
	if a := tr.Header.Get("Accept"); a != "application/json" {
		t.Errorf("token request Accept %q", a)
	}
	if len(apiReqs) != 4 {
		t.Fatalf("%d management API requests, want 2 per run", len(apiReqs))
	}
	users, roles := apiReqs[0], apiReqs[1]
	if users.Method != "GET" || users.Query != "id=kp_1" || users.Body != "" {
		t.Errorf("users request %+v", users)
	}
	// The library sends GET params as a body (new URLSearchParams(params).toString()).
	if roles.Method != "GET" || roles.Query != "" || roles.Body != "page_size=5" {
		t.Errorf("roles request %+v", roles)
	}
	for _, w := range apiReqs {
		if w.Header.Get("Authorization") != "Bearer "+token || w.Header.Get("Accept") != "application/json" ||
			w.Header.Get("Content-Type") != "application/json" {
			t.Errorf("API request headers %v", w.Header)
		}
	}
}
