package server

import (
	"sync"
	"time"
)

// ttlCache keeps what every trigger call would otherwise read from the
// database — the runtime token's check, the environment's variables, a
// workflow's active key — for a short time. A change made through this
// replica's API drops its environment's entries at once; one made through
// another replica is seen within the TTL, like live-pointer flips.
type ttlCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[cacheKey]cacheEntry
}

type cacheKey struct {
	env, kind, id string
}

type cacheEntry struct {
	at time.Time
	v  any
}

func newTTLCache(ttl time.Duration, max int) *ttlCache {
	return &ttlCache{ttl: ttl, max: max, m: map[cacheKey]cacheEntry{}}
}

// get returns the cached value for k, or loads and caches it. Errors are
// not cached.
func get[V any](c *ttlCache, k cacheKey, load func() (V, error)) (V, error) {
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.m[k]; ok && now.Sub(e.at) < c.ttl {
		c.mu.Unlock()
		return e.v.(V), nil
	}
	c.mu.Unlock()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m) // bounded: a burst of distinct keys starts over
	}
	c.m[k] = cacheEntry{at: now, v: v}
	c.mu.Unlock()
	return v, nil
}

// forget drops every entry of env.
func (c *ttlCache) forget(env string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.env == env {
			delete(c.m, k)
		}
	}
}
