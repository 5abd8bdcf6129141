package sandbox

import (
	"fmt"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
)

// TestBundleCacheKeepsRecentlyUsed: a worker's bundle cache holds at most
// its size, drops the bundle used longest ago, and keeps the first bytes
// sent for a digest.
func TestBundleCacheKeepsRecentlyUsed(t *testing.T) {
	c := newBundleCache(2)
	a, b, d := [32]byte{1}, [32]byte{2}, [32]byte{3}
	c.put(a, []byte("a"), nil)
	c.put(b, []byte("b"), nil)
	c.get(a) // b is now the least recently used
	c.put(d, []byte("d"), nil)
	if _, ok := c.get(b); ok {
		t.Error("b was kept past the cache size")
	}
	for _, k := range [][32]byte{a, d} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%x was dropped", k[0])
		}
	}
	c.put(a, []byte("other"), nil)
	if got, _ := c.get(a); string(got.code) != "a" {
		t.Errorf("code %q, want the first sent", got.code)
	}
}

// TestScopeCachesBounded: the in-process runner keeps maxScopes JWT caches
// and, past that, drops the scope used longest ago (not all of them).
func TestScopeCachesBounded(t *testing.T) {
	p := newInProcess(Options{})
	defer p.Close()
	first := make([]*bindings.TokenCache, maxScopes)
	for i := range maxScopes {
		first[i] = p.cache(fmt.Sprint("s", i))
	}
	p.cache("s0") // s1 is now the least recently used
	p.cache("new")
	if p.cache("s0") != first[0] || p.cache(fmt.Sprint("s", maxScopes-1)) != first[maxScopes-1] {
		t.Error("a recently used scope lost its cache")
	}
	if p.cache("s1") == first[1] {
		t.Error("the least recently used scope kept its cache past the bound")
	}
}
