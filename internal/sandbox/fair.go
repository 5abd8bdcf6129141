package sandbox

import (
	"context"
	"sync"
)

// fairSlots hands out the supervisor's request slots. When requests of
// several scopes (environments) wait, a freed slot goes to the waiting
// scope with the fewest running requests, oldest first among equals, so
// one tenant's slow or spinning workflows cannot queue every other
// tenant behind them: another scope waits at most for one run to end
// (first come, first served, ten spinning runs of one environment held
// another's call 25 s).
type fairSlots struct {
	mu      sync.Mutex
	free    int
	running map[string]int
	waiting []*slotWaiter
}

type slotWaiter struct {
	scope string
	ready chan struct{}
}

func newFairSlots(n int) *fairSlots {
	return &fairSlots{free: n, running: map[string]int{}}
}

// acquire takes a slot for scope, waiting until one is granted or ctx ends.
func (f *fairSlots) acquire(ctx context.Context, scope string) error {
	f.mu.Lock()
	if f.free > 0 && len(f.waiting) == 0 {
		f.free--
		f.running[scope]++
		f.mu.Unlock()
		return nil
	}
	w := &slotWaiter{scope: scope, ready: make(chan struct{})}
	f.waiting = append(f.waiting, w)
	f.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		for i, x := range f.waiting {
			if x == w {
				f.waiting = append(f.waiting[:i], f.waiting[i+1:]...)
				f.mu.Unlock()
				return ctx.Err()
			}
		}
		f.mu.Unlock()
		f.release(scope) // granted as ctx ended: give it back
		return ctx.Err()
	}
}

// release returns scope's slot and grants free slots to waiters.
func (f *fairSlots) release(scope string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[scope]--; f.running[scope] <= 0 {
		delete(f.running, scope)
	}
	f.free++
	for f.free > 0 && len(f.waiting) > 0 {
		best := 0
		for i, w := range f.waiting {
			if f.running[w.scope] < f.running[f.waiting[best].scope] {
				best = i
			}
		}
		w := f.waiting[best]
		f.waiting = append(f.waiting[:best], f.waiting[best+1:]...)
		f.free--
		f.running[w.scope]++
		close(w.ready)
	}
}

// inUse is how many slots are taken (tests check none leaks).
func (f *fairSlots) inUse() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.running {
		n += r
	}
	return n
}
