package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signingInput is header.payload for alg and kid, expiring in an hour.
func signingInput(alg, kid string) string {
	return b64(fmt.Appendf(nil, `{"alg":%q,"kid":%q,"typ":"JWT"}`, alg, kid)) + "." +
		b64(fmt.Appendf(nil, `{"sub":"x","exp":%d}`, time.Now().Add(time.Hour).Unix()))
}

// signEC signs in with key over hash h, whatever alg the header claims:
// what an attacker does to make a key verify a token it should not.
func signEC(t *testing.T, key *ecdsa.PrivateKey, h crypto.Hash, in string) string {
	t.Helper()
	hh := h.New()
	hh.Write([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, hh.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	size := (key.Curve.Params().BitSize + 7) / 8
	sig := append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
	return in + "." + b64(sig)
}

func signRSA(t *testing.T, key *rsa.PrivateKey, h crypto.Hash, in string) string {
	t.Helper()
	hh := h.New()
	hh.Write([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, hh.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64(sig)
}

func setOf(t *testing.T, keys ...jose.JSONWebKey) *Set {
	t.Helper()
	data, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSet(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	secret := []byte(strings.Repeat("s", 32))
	hs := func(key []byte, in string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	pub := func(k crypto.PublicKey, kid, alg string) jose.JSONWebKey {
		return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg, Use: "sig"}
	}
	cases := []struct {
		name  string
		token string
		set   *Set
		ok    bool
	}{
		{"ES256 with its P-256 key", signEC(t, p256, crypto.SHA256, signingInput("ES256", "e")), setOf(t, pub(&p256.PublicKey, "e", "")), true},
		{"ES256 claimed, signed with the P-384 key", signEC(t, p384, crypto.SHA256, signingInput("ES256", "e")), setOf(t, pub(&p384.PublicKey, "e", "")), false},
		{"ES384 with its P-384 key", signEC(t, p384, crypto.SHA384, signingInput("ES384", "e")), setOf(t, pub(&p384.PublicKey, "e", "")), true},
		{"RS256 with its key", signRSA(t, rsaKey, crypto.SHA256, signingInput("RS256", "r")), setOf(t, pub(&rsaKey.PublicKey, "r", "RS256")), true},
		{"RS256 token, JWK alg RS512", signRSA(t, rsaKey, crypto.SHA256, signingInput("RS256", "r")), setOf(t, pub(&rsaKey.PublicKey, "r", "RS512")), false},
		{"RS512 token, JWK alg RS512", signRSA(t, rsaKey, crypto.SHA512, signingInput("RS512", "r")), setOf(t, pub(&rsaKey.PublicKey, "r", "RS512")), true},
		{"signed by another key", signRSA(t, other, crypto.SHA256, signingInput("RS256", "r")), setOf(t, pub(&rsaKey.PublicKey, "r", "")), false},
		{"kid of another key", signRSA(t, rsaKey, crypto.SHA256, signingInput("RS256", "zz")), setOf(t, pub(&rsaKey.PublicKey, "r", "")), false},
		{"no kid in the token", signRSA(t, rsaKey, crypto.SHA256, signingInput("RS256", "")), setOf(t, pub(&rsaKey.PublicKey, "r", "")), true},
		{"HS256 with the RSA modulus as secret", hs(rsaKey.N.Bytes(), signingInput("HS256", "r")), setOf(t, pub(&rsaKey.PublicKey, "r", "")), false},
		{"alg none", signingInput("none", "r") + ".", setOf(t, pub(&rsaKey.PublicKey, "r", "")), false},
		{"HS256 static secret", hs(secret, signingInput("HS256", "")), nil, true},
		{"HS256 static, wrong secret", hs([]byte(strings.Repeat("t", 32)), signingInput("HS256", "")), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.set == nil {
				var tok *Token
				if tok, err = Parse(c.token, []jose.SignatureAlgorithm{jose.HS256}); err == nil {
					err = tok.VerifyHS256(secret)
				}
			} else {
				var tok *Token
				if tok, err = Parse(c.token, nil); err == nil {
					if tok.Exp.IsZero() {
						t.Fatal("exp not read")
					}
					err = tok.Verify(c.set)
				}
			}
			if c.ok != (err == nil) {
				t.Fatalf("verified = %v (%v), want %v", err == nil, err, c.ok)
			}
		})
	}
	short := hs([]byte("short"), signingInput("HS256", ""))
	tok, err := Parse(short, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.VerifyHS256([]byte("short")); err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Errorf("short HS256 secret: %v", err)
	}
}

// TestParseSet skips what must not verify anything: off-curve EC points,
// small RSA keys, private and symmetric keys, encryption keys.
func TestParseSet(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	raw, _ := p256.PublicKey.Bytes()
	x, y := raw[1:33], raw[33:]
	d, _ := p256.Bytes()
	offCurve := new(big.Int).Add(new(big.Int).SetBytes(y), big.NewInt(1)).FillBytes(make([]byte, 32))
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ec := func(x, y []byte, extra string) string {
		return fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":"k1","x":%q,"y":%q%s}`, b64(x), b64(y), extra)
	}
	cases := []struct {
		name string
		keys string
		want int // usable keys; 0 = error
	}{
		{"valid P-256", ec(x, y, ""), 1},
		{"point off the curve", ec(x, offCurve, ""), 0},
		{"oversized x", ec(append([]byte{1}, x...), y, ""), 0},
		{"encryption key", ec(x, y, `,"use":"enc"`), 0},
		{"private key", ec(x, y, fmt.Sprintf(`,"d":%q`, b64(d))), 0},
		{"symmetric key", `{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`, 0},
		{"1024-bit RSA", fmt.Sprintf(`{"kty":"RSA","n":%q,"e":"AQAB"}`, b64(small.N.Bytes())), 0},
		{"unknown kty next to a good key", `{"kty":"XYZ"},` + ec(x, y, ""), 1},
		{"not JSON keys", `1, "a", null`, 0},
	}
	for _, c := range cases {
		s, err := ParseSet([]byte(`{"keys":[` + c.keys + `]}`))
		switch {
		case c.want == 0 && err == nil:
			t.Errorf("%s: parsed %d keys, want an error", c.name, s.Len())
		case c.want > 0 && (err != nil || s.Len() != c.want):
			t.Errorf("%s: %v, want %d keys", c.name, err, c.want)
		}
	}
	if _, err := ParseSet([]byte(`[`)); err == nil {
		t.Error("malformed JSON parsed")
	}
}

// TestCacheSingleRefresh: many runs finding the set missing, stale or
// rejected at once make one fetch; a rejected set is not fetched again
// within MinRefresh; a failing fetch is not retried by every caller.
func TestCacheSingleRefresh(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k"}}})
	var fetches atomic.Int32
	var fail atomic.Bool
	release := make(chan struct{})
	fetch := func(ctx context.Context, url string) ([]byte, error) {
		fetches.Add(1)
		<-release
		if fail.Load() {
			return nil, fmt.Errorf("server down")
		}
		return doc, nil
	}
	clock := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	c := &Cache{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }}
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }

	burst := func(rejected *Set) []*Set {
		const n = 20
		out := make([]*Set, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := c.Keys(context.Background(), "https://a/jwks", rejected, fetch)
				if err == nil {
					out[i] = s
				}
			}()
		}
		// Let the fetcher start, then release it (and any later fetcher).
		for fetches.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		close(release)
		wg.Wait()
		release = make(chan struct{})
		return out
	}
	check := func(step string, want int32, sets []*Set) {
		t.Helper()
		if got := fetches.Swap(0); got != want {
			t.Errorf("%s: %d fetches, want %d", step, got, want)
		}
		for i, s := range sets {
			if s == nil || s != sets[0] {
				t.Fatalf("%s: caller %d got %p, caller 0 %p", step, i, s, sets[0])
			}
		}
	}
	first := burst(nil)
	check("cold", 1, first)
	advance(TTL + time.Second)
	stale := burst(nil)
	check("stale", 1, stale)
	if stale[0] == first[0] {
		t.Error("stale set served after TTL")
	}
	advance(MinRefresh + time.Second)
	rotated := burst(stale[0])
	check("rejected", 1, rotated)
	// Rejected again at once: no fetch, the same set.
	if s, err := c.Keys(context.Background(), "https://a/jwks", rotated[0], func(context.Context, string) ([]byte, error) {
		t.Fatal("fetched within MinRefresh")
		return nil, nil
	}); err != nil || s != rotated[0] {
		t.Errorf("rejected within MinRefresh: %p, %v", s, err)
	}
	// A failing server: one fetch for the burst, the old set served.
	advance(TTL + time.Second)
	fail.Store(true)
	fetches.Store(0)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Keys(context.Background(), "https://a/jwks", nil, fetch) }()
	}
	for fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := fetches.Load(); got != 1 {
		t.Errorf("failing server: %d fetches, want 1", got)
	}
}

// FuzzParse: outside tokens and key sets never panic the parser or the verifier.
func FuzzParse(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln", `{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`)
	f.Add("a.b.c", `{"keys":[]}`)
	f.Add("..", "")
	f.Fuzz(func(t *testing.T, tok, set string) {
		s, _ := ParseSet([]byte(set))
		j, err := Parse(tok, nil)
		if err != nil || s == nil {
			return
		}
		_ = j.Verify(s)
	})
}
