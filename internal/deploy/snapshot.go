package deploy

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnavailable: the runtime state of an environment could not be read
// and there is no recent enough copy in memory to serve from.
var ErrUnavailable = errors.New("runtime state unavailable")

// Defaults for the snapshot policy (Options.SnapshotMaxStale and
// Options.SnapshotTimeout).
const (
	DefaultSnapshotMaxStale = 15 * time.Minute
	DefaultSnapshotTimeout  = 2 * time.Second

	maxSnapshotEnvs = 10000 // environments kept in memory (made-up names included)
)

// Snapshot is everything the trigger path needs for one environment, read
// from the database together: the live deployment per trigger, the runtime
// token's hash, the variables (secrets opened) and each live workflow's
// active encryption key. It is immutable; callers must not modify what its
// methods return.
type Snapshot struct {
	Env string
	// LoadedAt is when this state was read; the trigger path serves it
	// until a newer one is read, or until it is older than the max stale.
	LoadedAt time.Time

	exists    bool
	tokenHash string
	live      map[string]LiveDeployment // by trigger
	vars      map[string]EnvValue
	keys      map[string][]byte // by workflow id; absent: no active key
	keyErrs   map[string]string // by workflow id: why the active key does not open
	recording *RecordingState   // nil: nothing is recorded
}

// CheckToken reports whether token is the environment's runtime token (in
// constant time; false for an unknown environment or an empty token).
func (sn *Snapshot) CheckToken(token string) bool {
	if !sn.exists || sn.tokenHash == "" || token == "" {
		return false
	}
	h := tokenHash(token)
	return len(h) == len(sn.tokenHash) && subtle.ConstantTimeCompare([]byte(h), []byte(sn.tokenHash)) == 1
}

// Live is the deployment live for trigger, or nil.
func (sn *Snapshot) Live(trigger string) *LiveDeployment {
	l, ok := sn.live[trigger]
	if !ok {
		return nil
	}
	return &l
}

// Vars are the environment's variables, secrets opened (shared: read only).
func (sn *Snapshot) Vars() map[string]EnvValue { return sn.vars }

// Recording is the environment's recording state, or nil when it records
// nothing (recordings.go).
func (sn *Snapshot) Recording() *RecordingState { return sn.recording }

// Key is a workflow's active encryption key, or nil.
func (sn *Snapshot) Key(workflowID string) []byte { return sn.keys[workflowID] }

// KeyError says why a workflow's active key does not open under any
// configured master key ("" when it opens or there is none): only the
// invocations that use the key fail.
func (sn *Snapshot) KeyError(workflowID string) string { return sn.keyErrs[workflowID] }

// snapshotEntry is one environment's cached snapshot and its refresher.
type snapshotEntry struct {
	cur   atomic.Pointer[Snapshot]
	dirty atomic.Bool // changed through this replica: read again before serving

	mu       sync.Mutex
	inflight chan struct{} // closed when the running refresh ends; nil when none runs
	lastTry  time.Time     // start of the last refresh (retries are paced by it)
	failing  time.Time     // when the current run of failures began; zero when healthy

	failingNow atomic.Bool // !failing.IsZero(), for the hot path
}

// snapshots caches the environments' snapshots. The zero value is ready.
type snapshots struct {
	m        sync.Map // env -> *snapshotEntry
	n        atomic.Int64
	failures atomic.Int64 // refreshes that failed, ever
	stale    atomic.Int64 // calls served from a copy older than the refresh interval because refreshing failed
}

// SnapshotStats are counters for the metrics.
type SnapshotStats struct {
	RefreshFailures int64         // refreshes that failed (database errors or timeouts)
	ServedStale     int64         // trigger calls served from the last good state while refreshing failed
	MaxAge          time.Duration // age of the oldest snapshot in memory
	Failing         int           // environments whose refresh is failing now
}

// SnapshotStats reports the snapshot cache's health.
func (s *Service) SnapshotStats() SnapshotStats {
	st := SnapshotStats{RefreshFailures: s.snaps.failures.Load(), ServedStale: s.snaps.stale.Load()}
	now := s.now()
	s.snaps.m.Range(func(_, v any) bool {
		e := v.(*snapshotEntry)
		if sn := e.cur.Load(); sn != nil && sn.exists {
			st.MaxAge = max(st.MaxAge, now.Sub(sn.LoadedAt))
		}
		e.mu.Lock()
		if !e.failing.IsZero() {
			st.Failing++
		}
		e.mu.Unlock()
		return true
	})
	return st
}

// InvalidateSnapshot makes the next trigger call of env on this replica
// read the environment again (a change was made here: token, variable,
// key, live pointer). If that read fails, the previous state is served.
func (s *Service) InvalidateSnapshot(env string) {
	if v, ok := s.snaps.m.Load(env); ok {
		v.(*snapshotEntry).dirty.Store(true)
	}
}

// Snapshot returns env's runtime state from memory. It reads the database
// only to refresh: at most every LiveCheckInterval, in the background,
// one read per environment at a time, each bounded by SnapshotTimeout.
// When a refresh fails the last good state keeps being served, up to
// SnapshotMaxStale old. A call waits for the database only when there is
// no usable state (first call, or too stale) or a change was made through
// this replica — and then at most until ctx ends or the read times out.
// It fails with ErrUnavailable when nothing usable could be read.
func (s *Service) Snapshot(ctx context.Context, env string) (*Snapshot, error) {
	e := s.snapshotEntry(env)
	sn := e.cur.Load()
	now := s.now()
	dirty := e.dirty.Load()
	if sn != nil && !dirty {
		age := now.Sub(sn.LoadedAt)
		if age < s.liveInterval {
			return sn, nil
		}
		done := e.refresh(s, env, now)
		if age < s.maxStale {
			if e.failingNow.Load() {
				s.snaps.stale.Add(1)
			}
			return sn, nil
		}
		return s.await(ctx, env, e, done, sn)
	}
	if sn != nil && e.failingNow.Load() && now.Sub(sn.LoadedAt) < s.maxStale {
		// The database is away: a change owed is read in the background
		// like any refresh, and the call is served at once.
		e.refresh(s, env, now)
		s.snaps.stale.Add(1)
		return sn, nil
	}
	// A change made here is read before serving. A read already running
	// may have started before the change: then one more. With a state to
	// fall back on, the wait is short whatever the database does.
	var limit <-chan time.Time
	if sn != nil {
		t := time.NewTimer(s.slowAfter())
		defer t.Stop()
		limit = t.C
	}
	for range 2 {
		done := e.refresh(s, env, time.Time{})
		select {
		case <-done:
		case <-ctx.Done():
			return s.await(ctx, env, e, nil, sn)
		case <-limit:
			return s.await(ctx, env, e, nil, sn)
		}
		if !e.dirty.Load() {
			break
		}
	}
	return s.await(ctx, env, e, nil, sn)
}

// slowAfter is how long a read may take before it counts as failing.
func (s *Service) slowAfter() time.Duration {
	return min(s.snapTimeout, max(time.Second, 2*s.liveInterval))
}

// await waits for a refresh (done; nil: none to wait for) and returns the
// newest usable state.
func (s *Service) await(ctx context.Context, env string, e *snapshotEntry, done chan struct{}, old *Snapshot) (*Snapshot, error) {
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	sn := e.cur.Load()
	if sn != nil && sn != old {
		return sn, nil
	}
	if sn != nil && s.now().Sub(sn.LoadedAt) < s.maxStale {
		s.snaps.stale.Add(1)
		return sn, nil
	}
	return nil, fmt.Errorf("deploy: environment %s: %w", env, ErrUnavailable)
}

func (s *Service) snapshotEntry(env string) *snapshotEntry {
	if v, ok := s.snaps.m.Load(env); ok {
		return v.(*snapshotEntry)
	}
	if s.snaps.n.Load() >= maxSnapshotEnvs {
		// Bounded: forget environments that do not exist (made-up names
		// in calls) before anything real.
		s.snaps.m.Range(func(k, v any) bool {
			if sn := v.(*snapshotEntry).cur.Load(); sn != nil && !sn.exists {
				if s.snaps.m.CompareAndDelete(k, v) {
					s.snaps.n.Add(-1)
				}
			}
			return true
		})
	}
	v, loaded := s.snaps.m.LoadOrStore(env, &snapshotEntry{})
	if !loaded {
		s.snaps.n.Add(1)
	}
	return v.(*snapshotEntry)
}

// refresh starts a background read of env unless one is running, and
// returns a channel closed when the running read ends. With a non-zero
// notBefore pacing applies: no new read starts within LiveCheckInterval
// of the previous one (nil is returned then), so a database that fails
// fast is not asked on every call.
func (e *snapshotEntry) refresh(s *Service, env string, now time.Time) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight != nil {
		return e.inflight
	}
	if !now.IsZero() && now.Sub(e.lastTry) < s.liveInterval {
		return nil
	}
	done := make(chan struct{})
	e.inflight, e.lastTry = done, s.now()
	e.dirty.Store(false)
	go func() {
		// A read that hangs (a black-holed database) counts as failing
		// long before its timeout: it is logged and measured as one.
		slow := time.AfterFunc(s.slowAfter(), func() {
			e.markFailing(s, env, done, errors.New("the read is taking longer than expected"))
		})
		ctx, cancel := context.WithTimeout(context.Background(), s.snapTimeout)
		sn, err := s.loadSnapshot(ctx, env)
		cancel()
		slow.Stop()
		if err != nil {
			// A change owed to callers is not retried in their path: they
			// are served the last good state, and the paced background
			// refresh reads it when the database is back.
			s.snaps.failures.Add(1)
			e.markFailing(s, env, nil, err)
		} else {
			e.cur.Store(sn)
		}
		e.mu.Lock()
		e.inflight = nil
		if err == nil && !e.failing.IsZero() {
			s.log.Info("runtime state refresh recovered", "environment", env, "outage", s.now().Sub(e.failing).Round(time.Millisecond))
			e.failing = time.Time{}
			e.failingNow.Store(false)
		}
		e.mu.Unlock()
		close(done)
	}()
	return done
}

// markFailing records that refreshing env fails, logging the first time
// in a run of failures: one line per outage, not per call.
// With running set, only while that read is still running.
func (e *snapshotEntry) markFailing(s *Service, env string, running chan struct{}, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if running != nil && e.inflight != running {
		return
	}
	if e.failing.IsZero() {
		e.failing = s.now()
		e.failingNow.Store(true)
		s.log.Warn("runtime state refresh failing: serving the last good state", "environment", env, "err", err)
	}
}

// loadSnapshot reads env's runtime state.
func (s *Service) loadSnapshot(ctx context.Context, env string) (*Snapshot, error) {
	sn := &Snapshot{Env: env, LoadedAt: s.now()}
	e, err := s.db.Environment(ctx, env)
	if errors.Is(err, ErrNotFound) {
		return sn, nil // nothing to serve: the token check fails
	}
	if err != nil {
		return nil, err
	}
	sn.exists, sn.tokenHash = true, e.RuntimeTokenHash
	lds, err := s.db.LiveDeployments(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("deploy: live deployments of %s: %w", env, err)
	}
	sn.live = make(map[string]LiveDeployment, len(lds))
	sn.keys = map[string][]byte{}
	for _, l := range lds {
		sn.live[l.Trigger] = l
		if _, ok := sn.keys[l.WorkflowID]; ok {
			continue
		}
		k, err := s.ActiveEncryptionKey(ctx, env, l.WorkflowID)
		var unreadable *UnreadableKeyError
		if errors.As(err, &unreadable) {
			if sn.keyErrs == nil {
				sn.keyErrs = map[string]string{}
			}
			sn.keyErrs[l.WorkflowID] = unreadable.Error()
			continue
		}
		if err != nil {
			return nil, err
		}
		if k != nil {
			sn.keys[l.WorkflowID] = k
		}
	}
	if sn.vars, err = s.EnvForInvocation(ctx, env); err != nil {
		return nil, err
	}
	if sn.recording, err = s.recordingState(ctx, env); err != nil {
		return nil, err
	}
	return sn, nil
}
