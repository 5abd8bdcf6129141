package bindings

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/outbound"
	"github.com/flowgate/flowgate/internal/workflow"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mintRS256(t *testing.T, key *rsa.PrivateKey, kid string, exp time.Time) string {
	t.Helper()
	in := b64([]byte(`{"alg":"RS256","typ":"JWT","kid":"`+kid+`"}`)) + "." + b64([]byte(fmt.Sprintf(`{"sub":"m2m","exp":%d}`, exp.Unix())))
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64(sig)
}

func mintHS256(secret string, exp time.Time) string {
	in := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64([]byte(fmt.Sprintf(`{"exp":%d}`, exp.Unix())))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(in))
	return in + "." + b64(m.Sum(nil))
}

func TestJWTTokenCache(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	jwksHits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwksHits++
		w.Write(jwks)
	}))
	defer srv.Close()

	now := time.Unix(1_800_000_000, 0)
	valid := mintRS256(t, key, "k1", now.Add(time.Hour))
	forged := mintRS256(t, other, "k1", now.Add(time.Hour))
	expired := mintRS256(t, key, "k1", now.Add(-time.Minute))
	static := mintHS256("shh-secret-of-at-least-32-bytes!", now.Add(time.Hour))

	jwksOpts := `{validation: {key: {type: "jwks", jwks: {url: "` + srv.URL + `/.well-known/jwks.json"}}}, onMissingOrExpired: next}`
	staticOpts := `{validation: {key: {type: "static", static: {alg: "HS256", key: "shh-secret-of-at-least-32-bytes!"}}}, onMissingOrExpired: next}`

	type step struct {
		returns   string        // what onMissingOrExpired returns this time
		advance   time.Duration // clock moves before the call
		opts      string
		wantCalls int // callback calls so far
		want      string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"jwks: miss then hit", []step{
			{returns: valid, opts: jwksOpts, wantCalls: 1, want: valid},
			{returns: "unused", opts: jwksOpts, wantCalls: 1, want: valid},
		}},
		{"jwks: expired token is refetched", []step{
			{returns: valid, opts: jwksOpts, wantCalls: 1, want: valid},
			{returns: valid, opts: jwksOpts, advance: 2 * time.Hour, wantCalls: 2, want: valid},
		}},
		{"jwks: an already expired token is not cached", []step{
			{returns: expired, opts: jwksOpts, wantCalls: 1, want: expired},
			{returns: valid, opts: jwksOpts, wantCalls: 2, want: valid},
		}},
		{"jwks: invalid signature is not cached", []step{
			{returns: forged, opts: jwksOpts, wantCalls: 1, want: forged},
			{returns: valid, opts: jwksOpts, wantCalls: 2, want: valid},
			{returns: "unused", opts: jwksOpts, wantCalls: 2, want: valid},
		}},
		{"quoted token is unquoted", []step{
			{returns: `"` + valid + `"`, opts: jwksOpts, wantCalls: 1, want: valid},
		}},
		{"static HS256: miss then hit", []step{
			{returns: static, opts: staticOpts, wantCalls: 1, want: static},
			{returns: "unused", opts: staticOpts, wantCalls: 1, want: static},
		}},
		{"static key is part of the cache key", []step{
			{returns: static, opts: staticOpts, wantCalls: 1, want: static},
			{returns: valid, opts: jwksOpts, wantCalls: 2, want: valid},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := NewTokenCache()
			clock := now
			cache.now = func() time.Time { return clock }
			cache.sets.Now = cache.now
			calls := 0
			for i, st := range tc.steps {
				clock = clock.Add(st.advance)
				// A fresh invocation per step: the cache is what they share.
				s := newSandbox(t, &Config{Settings: declare(workflow.M2MTokenGeneration, workflow.BindFetch),
					Cache: cache, Net: &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}}})
				s.vm.Set("next", func() string { calls++; return st.returns })
				got := s.mustRun(t, `kinde.cache.jwtToken("internal_m2m_access_token", `+st.opts+`)`)
				if got != st.want || calls != st.wantCalls {
					t.Fatalf("step %d: got %.20q… after %d calls, want %.20q… after %d", i, got, calls, st.want, st.wantCalls)
				}
			}
		})
	}
	if jwksHits > len(tests)+2 {
		t.Errorf("JWKS fetched %d times; it should be cached per cache", jwksHits)
	}
}

func TestJWTTokenCallbackErrorsPropagate(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.M2MTokenGeneration, workflow.BindFetch), Cache: NewTokenCache()})
	_, err := s.run(`kinde.cache.jwtToken("t", {validation: {key: {type: "static", static: {alg: "HS256", key: "k"}}},
		onMissingOrExpired() { throw new Error("getM2MToken: No access token returned") }})`)
	if err != "Error: getM2MToken: No access token returned" {
		t.Errorf("error = %q", err)
	}
	_, err = s.run(`kinde.cache.jwtToken("t", {validation: {key: {type: "static", static: {alg: "HS256", key: "k"}}},
		onMissingOrExpired() { return 42 }})`)
	if !strings.HasPrefix(err, "TypeError: kinde.cache.jwtToken: onMissingOrExpired must return the token as a non-empty string, got number") {
		t.Errorf("error = %q", err)
	}
}

func TestJWTTokenWithoutCacheAlwaysCallsBack(t *testing.T) {
	s := newSandbox(t, &Config{Settings: declare(workflow.M2MTokenGeneration, workflow.BindFetch)})
	got := s.mustRun(t, `let n = 0; const o = {validation: {key: {type: "static", static: {alg: "HS256", key: "k"}}},
		onMissingOrExpired() { n++; return "tok" }};
		kinde.cache.jwtToken("t", o) + kinde.cache.jwtToken("t", o) + n`)
	if got != "toktok2" {
		t.Errorf("got %v", got)
	}
}

// TestJWKSFetchesCount: 200 jwtToken calls with 200 different JWKS URLs
// make at most the run's 10 requests (issue 6.9); the tokens are still
// returned, just not cached, and a fetch after them is refused as well.
func TestJWKSFetchesCount(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer srv.Close()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tok := mintRS256(t, key, "k1", time.Now().Add(time.Hour))
	s := newSandbox(t, &Config{Settings: declare(workflow.M2MTokenGeneration, workflow.BindFetch),
		Cache: NewTokenCache(), Net: &NetPolicy{AllowHosts: []string{srv.Listener.Addr().String()}}})
	s.vm.Set("tok", tok)
	got := s.mustRun(t, `let n = 0;
		for (let i = 0; i < 200; i++) {
			if (kinde.cache.jwtToken("t" + i, {validation: {key: {type: "jwks", jwks: {url: "`+srv.URL+`/jwks/" + i}}},
				onMissingOrExpired: () => tok}) === tok) n++;
		}
		let err = "";
		try { kinde.fetch("`+srv.URL+`/after") } catch (e) { err = e.message }
		n + " " + err`)
	if h := hits.Load(); h > outbound.DefaultMaxRequests {
		t.Errorf("the server saw %d requests, the cap is %d", h, outbound.DefaultMaxRequests)
	}
	if want := "200 kinde.fetch: too many requests"; !strings.HasPrefix(got.(string), want) {
		t.Errorf("got %q, want prefix %q", got, want)
	}
}

// TestShortStaticKeyNotCached: an HS256 secret under 32 bytes never
// verifies (go-jose, RFC 7518), so the token is returned but not cached,
// with a warning that says why.
func TestShortStaticKeyNotCached(t *testing.T) {
	cache := NewTokenCache()
	for i := range 2 {
		s := newSandbox(t, &Config{Settings: declare(workflow.M2MTokenGeneration, workflow.BindFetch), Cache: cache})
		s.vm.Set("tok", mintHS256("short", time.Now().Add(time.Hour)))
		s.mustRun(t, `kinde.cache.jwtToken("t", {validation: {key: {type: "static", static: {alg: "HS256", key: "short"}}}, onMissingOrExpired: () => tok})`)
		if !strings.Contains(logText(s.res), "at least 32 bytes") {
			t.Errorf("run %d: logs %q lack the reason", i, logText(s.res))
		}
	}
}

// TestTokenCacheBounded: the token cache holds maxCachedTokens tokens and,
// when full, drops the one used longest ago.
func TestTokenCacheBounded(t *testing.T) {
	var c TokenCache // the zero value is ready
	for i := range maxCachedTokens {
		c.put(fmt.Sprint("k", i), fmt.Sprint("t", i))
	}
	if c.get("k0") != "t0" { // k0 is now the most recently used, k1 the least
		t.Fatal("k0 missing before the cache was full")
	}
	c.put("new", "t")
	if c.get("k1") != "" {
		t.Error("the least recently used token was kept past the bound")
	}
	for _, k := range []string{"k0", "new", fmt.Sprint("k", maxCachedTokens-1)} {
		if c.get(k) == "" {
			t.Errorf("%s was dropped", k)
		}
	}
	c.drop("new")
	if c.get("new") != "" {
		t.Error("drop kept the token")
	}
}
