// Package jwks verifies the JWTs kinde.cache.jwtToken caches, through
// github.com/go-jose/go-jose/v4: a token must be signed with an algorithm
// its key allows (an ES256 token never verifies with a P-384 key, a JWK's
// "alg" and "use" are honoured, "none" and HMAC-with-a-public-key never
// verify). It also caches JSON Web Key Sets by URL, refreshing a stale or
// rotated set once however many runs ask for it at the same time.
package jwks

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds.
const (
	// TTL is how long a fetched key set is used before it is fetched again.
	TTL = 10 * time.Minute
	// MinRefresh is the least time between two fetches of one key set
	// forced by a signature that did not verify (a rotated key): a flood of
	// bad tokens costs one fetch per interval, not one per run.
	MinRefresh = 30 * time.Second
	// MaxSets bounds the key sets cached (one per JWKS URL).
	MaxSets = 1000
	// MaxKeys bounds the keys read from one set.
	MaxKeys = 64
	// MinRSABits is the smallest RSA key accepted.
	MinRSABits = 2048
)

// Algorithms a JWKS-validated token may use: asymmetric only, so a public
// key can never be used as an HMAC secret.
var asymmetric = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// Token is a parsed, not yet verified, compact JWS.
type Token struct {
	jws *jose.JSONWebSignature
	Alg string
	Kid string
	Exp time.Time // zero when the token has no exp claim
}

// Parse splits a compact JWT, allowing the algorithms algs (nil: the
// asymmetric ones), and reads its exp claim without verifying anything.
func Parse(token string, algs []jose.SignatureAlgorithm) (*Token, error) {
	if algs == nil {
		algs = asymmetric
	}
	jws, err := jose.ParseSignedCompact(token, algs)
	if err != nil {
		// go-jose's text names the library; say what is wrong instead.
		return nil, fmt.Errorf("not a usable JWT: want header.payload.signature signed with one of %s", algNames(algs))
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not a usable JWT: want exactly one signature")
	}
	h := jws.Signatures[0].Header
	t := &Token{jws: jws, Alg: h.Algorithm, Kid: h.KeyID}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return nil, errors.New("JWT payload: not a JSON object with a numeric exp")
	}
	if claims.Exp != nil {
		f, err := claims.Exp.Float64()
		if err != nil || f < 0 || f > 1e11 || math.IsNaN(f) {
			return nil, errors.New("JWT payload: exp is not a valid time")
		}
		t.Exp = time.Unix(int64(f), 0)
	}
	return t, nil
}

func algNames(algs []jose.SignatureAlgorithm) string {
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// VerifyHS256 checks t against a static HMAC secret. go-jose refuses
// secrets shorter than the hash (32 bytes, RFC 7518 §3.2).
func (t *Token) VerifyHS256(secret []byte) error {
	if t.Alg != string(jose.HS256) {
		return fmt.Errorf("the token's alg is %q, the key is HS256", t.Alg)
	}
	if len(secret) < 32 {
		return errors.New("an HS256 key must be at least 32 bytes (RFC 7518 §3.2)")
	}
	if _, err := t.jws.Verify(secret); err != nil {
		return fmt.Errorf("signature does not verify (alg %q)", t.Alg)
	}
	return nil
}

// Verify checks t against the signing keys of set: only keys whose kid
// matches (when both have one), whose "use" is sig (or absent) and whose
// "alg" is the token's (or absent); go-jose checks that the key's type
// and curve fit the algorithm.
func (t *Token) Verify(set *Set) error {
	for _, k := range set.keys {
		if t.Kid != "" && k.KeyID != "" && t.Kid != k.KeyID {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != t.Alg {
			continue
		}
		if _, err := t.jws.Verify(k); err == nil {
			return nil
		}
	}
	return fmt.Errorf("signature does not verify (alg %q, kid %q)", t.Alg, t.Kid)
}

// Set is the usable public signing keys of a JWK set.
type Set struct {
	keys    []jose.JSONWebKey
	fetched time.Time
}

// Len is the number of usable keys.
func (s *Set) Len() int { return len(s.keys) }

// ParseSet reads a JWK set's public signing keys; keys that are private,
// symmetric, for encryption, malformed, of an unknown type or RSA keys
// under MinRSABits are skipped (go-jose checks EC points are on their
// curve). A set with no usable key is an error.
func ParseSet(data []byte) (*Set, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New(`JWKS is not a JSON key set ({"keys": [...]})`)
	}
	s := &Set{}
	for i, r := range raw.Keys {
		if i == MaxKeys {
			break
		}
		var k jose.JSONWebKey
		if err := json.Unmarshal(r, &k); err != nil {
			continue
		}
		if !k.Valid() || !k.IsPublic() || k.Use != "" && k.Use != "sig" {
			continue
		}
		if _, symmetric := k.Key.([]byte); symmetric {
			continue
		}
		if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < MinRSABits {
			continue
		}
		s.keys = append(s.keys, k)
	}
	if len(s.keys) == 0 {
		return nil, errors.New("JWKS has no usable public signing keys")
	}
	return s, nil
}

// Fetcher fetches a key set's document; the caller's run counts it.
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// Cache holds key sets by URL for the runs of one environment. The zero
// value is ready to use; it is safe for concurrent use.
type Cache struct {
	Now func() time.Time // tests move the clock; nil is time.Now

	mu   sync.Mutex
	sets map[string]*entry
}

type entry struct {
	set      *Set
	lastTry  time.Time     // when a fetch last started
	inflight chan struct{} // closed when the fetch under way ends
	err      error         // the last fetch's error, for those who waited on it
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Keys returns the key set at url: the cached one while it is fresh,
// else one fetched with fetch. When rejected is the set a token just
// failed to verify with (the keys may have rotated), a newer set is
// fetched unless one was fetched after it or within MinRefresh. However
// many callers find the set stale at once, one of them fetches and the
// others wait for its result (or for their ctx).
func (c *Cache) Keys(ctx context.Context, url string, rejected *Set, fetch Fetcher) (*Set, error) {
	for {
		c.mu.Lock()
		if c.sets == nil {
			c.sets = map[string]*entry{}
		}
		e := c.sets[url]
		if e == nil {
			c.evict()
			e = &entry{}
			c.sets[url] = e
		}
		now := c.now()
		fresh := e.set != nil && now.Sub(e.set.fetched) < TTL && (rejected == nil || e.set != rejected)
		if fresh {
			s := e.set
			c.mu.Unlock()
			return s, nil
		}
		if wait := e.inflight; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait: // look again: the set is new, or the fetch failed moments ago
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		if !e.lastTry.IsZero() && now.Sub(e.lastTry) < MinRefresh {
			// Tried moments ago: serve what there is rather than fetch again.
			s, err := e.set, e.err
			c.mu.Unlock()
			if s != nil {
				return s, nil
			}
			return nil, err
		}
		done := make(chan struct{})
		e.inflight, e.lastTry = done, now
		c.mu.Unlock()

		set, err := c.fetchSet(ctx, url, fetch)

		c.mu.Lock()
		e.inflight, e.err = nil, err
		if err != nil && ctx.Err() != nil {
			e.lastTry = time.Time{} // this run ended; another may try at once
		}
		if err == nil {
			set.fetched = now
			e.set = set
		}
		close(done)
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return set, nil
	}
}

func (c *Cache) fetchSet(ctx context.Context, url string, fetch Fetcher) (*Set, error) {
	data, err := fetch(ctx, url)
	if err != nil {
		return nil, err
	}
	return ParseSet(data)
}

// evict makes room for one more set, dropping sets no fetch is filling.
// Not the shared LRU (golang-lru): an entry whose fetch is under way must
// stay, or the callers waiting on it would each fetch again.
// Called with c.mu held.
func (c *Cache) evict() {
	if len(c.sets) < MaxSets {
		return
	}
	for k, e := range c.sets {
		if e.inflight == nil {
			delete(c.sets, k)
		}
		if len(c.sets) < MaxSets/2 {
			return
		}
	}
}
