package bindings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	jose "github.com/go-jose/go-jose/v4"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/flowgate/flowgate/internal/jwks"
	"github.com/flowgate/flowgate/internal/outbound"
	"github.com/flowgate/flowgate/internal/whatwgurl"
)

// Cache bounds.
const (
	maxCachedTokens = 1000
	// expirySkew treats a token as expired a little early so it does not
	// expire while the request that uses it is on its way.
	expirySkew = 10 * time.Second
)

// TokenCache caches JWTs per environment for kinde.cache.jwtToken, keyed
// by token name and validation key, and the JWK sets used to verify them
// (package jwks: go-jose verification, one refresh at a time). The zero
// value is ready to use; it is safe for concurrent use by the invocations
// of one environment.
type TokenCache struct {
	mu     sync.Mutex                 // guards making tokens
	tokens *lru.Cache[string, string] // name + key identity -> token
	sets   jwks.Cache                 // JWKS URL -> keys
	now    func() time.Time           // tests move the clock
}

// NewTokenCache returns an empty cache.
func NewTokenCache() *TokenCache { return &TokenCache{} }

func (c *TokenCache) clock() time.Time {
	if c != nil && c.now != nil {
		return c.now()
	}
	return time.Now()
}

// cache is the token LRU, made on first use (the zero TokenCache is ready).
func (c *TokenCache) cache() *lru.Cache[string, string] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens, _ = lru.New[string, string](maxCachedTokens) // size > 0
	}
	return c.tokens
}

func (c *TokenCache) get(key string) string {
	t, _ := c.cache().Get(key)
	return t
}

func (c *TokenCache) put(key, token string) { c.cache().Add(key, token) }

func (c *TokenCache) drop(key string) { c.cache().Remove(key) }

// validation is a jwtToken call's key: a JWKS URL or a static HS256 secret.
type validation struct {
	identity string // part of the cache key
	jwksURL  string
	static   []byte
}

// jwtToken is kinde.cache.jwtToken(tokenName, {validation, onMissingOrExpired}):
// a cached, verified, unexpired JWT, or the one onMissingOrExpired returns.
func (inv *Invocation) jwtToken(call goja.FunctionCall) goja.Value {
	const fn = "kinde.cache.jwtToken"
	name := inv.stringArg(call, 0, fn, "tokenName")
	opts, ok := call.Argument(1).(*goja.Object)
	if !ok {
		inv.throwType("%s: options must be an object with validation and onMissingOrExpired", fn)
	}
	refresh, ok := goja.AssertFunction(opts.Get("onMissingOrExpired"))
	if !ok {
		inv.throwType("%s: options.onMissingOrExpired must be a function", fn)
	}
	val := inv.readValidation(opts.Get("validation"))
	key := name + "\x00" + val.identity
	cache := inv.cfg.Cache

	if cache != nil {
		if tok := cache.get(key); tok != "" {
			if err := inv.checkToken(tok, val); err == nil {
				return inv.vm.ToValue(tok)
			}
			cache.drop(key)
		}
	}
	res, err := refresh(goja.Undefined())
	if err != nil {
		panic(err) // the callback's own exception (or an interrupt) goes on up
	}
	tok := tokenString(res)
	if tok == "" {
		inv.throwType("%s: onMissingOrExpired must return the token as a non-empty string, got %s", fn, typeOf(res))
	}
	if cache != nil {
		if err := inv.checkToken(tok, val); err != nil {
			inv.log("warn", fmt.Sprintf("%s: the token for %q was not cached: %v", fn, name, err))
		} else {
			cache.put(key, tok)
		}
	}
	return inv.vm.ToValue(tok)
}

// tokenString accepts the callback's string, stripping the quotes a
// JSON-stringified token carries (the library strips them the same way).
func tokenString(v goja.Value) string {
	s, ok := str(v)
	if !ok {
		return ""
	}
	return strings.Trim(strings.TrimSpace(s), `"`)
}

// readValidation reads {key: {type: "jwks", jwks: {url}}} or
// {key: {type: "static", static: {alg: "HS256", key}}}.
func (inv *Invocation) readValidation(v goja.Value) validation {
	const fn = "kinde.cache.jwtToken"
	get := func(o goja.Value, prop string) goja.Value {
		if obj, ok := o.(*goja.Object); ok {
			if x := obj.Get(prop); x != nil {
				return x
			}
		}
		return goja.Undefined()
	}
	key := get(v, "key")
	switch t, _ := str(get(key, "type")); t {
	case "jwks":
		u, _ := str(get(get(key, "jwks"), "url"))
		if u == "" {
			inv.throwType("%s: validation.key.jwks.url must be a URL string", fn)
		}
		return validation{identity: "jwks:" + u, jwksURL: u}
	case "static":
		st := get(key, "static")
		alg, _ := str(get(st, "alg"))
		secret, _ := str(get(st, "key"))
		if alg != "HS256" {
			inv.throwType(`%s: validation.key.static.alg must be "HS256"`, fn)
		}
		if secret == "" {
			inv.throwType("%s: validation.key.static.key must be a non-empty string", fn)
		}
		sum := sha256.Sum256([]byte(secret))
		return validation{identity: "static:HS256:" + hex.EncodeToString(sum[:]), static: []byte(secret)}
	}
	inv.throwType(`%s: validation.key.type must be "jwks" or "static"`, fn)
	return validation{}
}

// checkToken reports why tok may not be served from the cache: malformed,
// without exp, expired, or not signed by the validation key.
func (inv *Invocation) checkToken(tok string, val validation) error {
	algs := []jose.SignatureAlgorithm(nil) // JWKS: asymmetric algorithms only
	if val.static != nil {
		algs = []jose.SignatureAlgorithm{jose.HS256}
	}
	t, err := jwks.Parse(tok, algs)
	if err != nil {
		return err
	}
	if t.Exp.IsZero() {
		return fmt.Errorf("it has no exp claim")
	}
	if !t.Exp.After(inv.cfg.Cache.clock().Add(expirySkew)) {
		return fmt.Errorf("it has expired")
	}
	if val.static != nil {
		return t.VerifyHS256(val.static)
	}
	c := inv.cfg.Cache
	set, err := c.sets.Keys(inv.ctx, val.jwksURL, nil, inv.fetchJWKS)
	if err != nil {
		return err
	}
	if err := t.Verify(set); err != nil {
		// The key set may have rotated: fetch it again (at most once per
		// jwks.MinRefresh, however many runs see the same token fail).
		if set, err = c.sets.Keys(inv.ctx, val.jwksURL, set, inv.fetchJWKS); err != nil {
			return err
		}
		return t.Verify(set)
	}
	return nil
}

// fetchJWKS fetches a key set document through the run's HTTP session,
// so it counts against the run's request cap like any fetch.
func (inv *Invocation) fetchJWKS(_ context.Context, rawURL string) ([]byte, error) {
	u, err := whatwgurl.Parse(rawURL, nil)
	if err != nil || (u.Scheme() != "http" && u.Scheme() != "https") {
		return nil, fmt.Errorf("JWKS URL %q is not an http(s) URL", rawURL)
	}
	s := inv.session()
	resp, err := s.Do(outbound.Request{Method: http.MethodGet, URL: u.Href(), Header: http.Header{"Accept": {"application/json"}}})
	if err != nil {
		return nil, fmt.Errorf("JWKS %s", s.Describe(u.Host(), err))
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("JWKS %s answered HTTP %d", u.Host(), resp.Status)
	}
	return resp.Body, nil
}
