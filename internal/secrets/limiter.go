package secrets

import (
	"sync"
	"time"
)

// LimiterConfig configures a Limiter; zero fields take the defaults.
type LimiterConfig struct {
	// MaxFailures within Window after which Allow refuses (default 5).
	MaxFailures int
	// Window is how long failures are remembered, counted from the first
	// failure of the window (default 15 minutes).
	Window time.Duration
	// MaxKeys bounds memory (default 10000). When full, expired entries
	// are dropped first, then the entry whose window started earliest.
	MaxKeys int
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
}

// Limiter counts failed attempts per key (e.g. a deployment id for preview
// passwords) and refuses further attempts for a key that failed too often,
// until its window ends. It is safe for concurrent use.
//
//	if !lim.Allow(id) { return 429 }
//	if ok { lim.Success(id) } else { lim.Fail(id) }
type Limiter struct {
	cfg     LimiterConfig
	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	failures int
	start    time.Time
}

// NewLimiter returns a Limiter.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, entries: make(map[string]*limitEntry)}
}

// Allow reports whether an attempt for key may proceed.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.live(key, l.cfg.Now())
	return e == nil || e.failures < l.cfg.MaxFailures
}

// Fail records a failed attempt for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	if e := l.live(key, now); e != nil {
		e.failures++
		return
	}
	if len(l.entries) >= l.cfg.MaxKeys {
		l.evict(now)
	}
	l.entries[key] = &limitEntry{failures: 1, start: now}
}

// Success forgets key's failures.
func (l *Limiter) Success(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// Len is the number of keys remembered (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// live returns key's entry unless absent or expired (expired ones are dropped).
func (l *Limiter) live(key string, now time.Time) *limitEntry {
	e, ok := l.entries[key]
	if !ok {
		return nil
	}
	if !now.Before(e.start.Add(l.cfg.Window)) {
		delete(l.entries, key)
		return nil
	}
	return e
}

// evict makes room for one entry. Called only when the map is full.
func (l *Limiter) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, e := range l.entries {
		if !now.Before(e.start.Add(l.cfg.Window)) {
			delete(l.entries, k)
			continue
		}
		if oldestKey == "" || e.start.Before(oldest) {
			oldestKey, oldest = k, e.start
		}
	}
	if len(l.entries) >= l.cfg.MaxKeys {
		delete(l.entries, oldestKey)
	}
}
