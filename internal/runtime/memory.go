package runtime

import (
	goruntime "runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// The memory limit. goja allocates from the Go heap with no accounting,
// so a sampler reads the process heap (runtime/metrics, no stop-the-world)
// every SampleInterval while invocations run. Each invocation remembers
// the lowest heap seen since it started; when the heap is more than
// MemoryBytes above that mark, a forced GC tells live growth from garbage,
// and the invocations still over the budget are interrupted. Single native
// calls that could allocate a lot before the next check are guarded in
// setup.js. See LIMITS.md for what this does and does not catch.

const heapMetric = "/memory/classes/heap/objects:bytes"

// errMemory is the interrupt value of an invocation over its memory budget.
type errMemory struct{ limit uint64 }

func (e errMemory) Error() string {
	return "memory limit exceeded: the workflow grew the heap by more than " + formatBytes(e.limit)
}

// Governor samples the process heap for every run of every Engine that
// shares it. The heap is per process, so a process should have one
// Governor (Options.Governor); an Engine without one makes its own. Its
// sampling goroutine runs only while some run is active. Close it when no
// Engine uses it any more.
type Governor struct {
	interval time.Duration

	mu      sync.Mutex
	running bool
	closed  bool
	last    uint64 // heap at the last sample
	gcHeap  uint64 // heap after the last forced GC
	active  map[*watch]struct{}
}

type watch struct {
	s     *slot
	limit uint64
	low   uint64
	hit   bool // interrupted for memory; guarded by Governor.mu
}

// NewGovernor returns a Governor reading the heap every interval (0 means
// the default SampleInterval, 2ms) while runs are active.
func NewGovernor(interval time.Duration) *Governor {
	if interval <= 0 {
		interval = Defaults().SampleInterval
	}
	return &Governor{interval: interval, active: map[*watch]struct{}{}}
}

// Close stops sampling: runs that start afterwards are not watched. Runs
// already active are still watched until they stop.
func (g *Governor) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

func readHeap(s []metrics.Sample) uint64 {
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// start watches the run on s, whose budget is limit, until the returned
// watch is passed to stop; nil when the governor is closed.
func (g *Governor) start(s *slot, limit uint64) *watch {
	w := &watch{s: s, limit: limit}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	if !g.running {
		g.running = true
		g.last = readHeap([]metrics.Sample{{Name: heapMetric}})
		go g.loop()
	}
	w.low = g.last
	g.active[w] = struct{}{}
	return w
}

// stop ends the watch and reports whether it was interrupted for memory.
func (g *Governor) stop(w *watch) (hit bool) {
	if w == nil {
		return false
	}
	g.mu.Lock()
	delete(g.active, w)
	hit = w.hit
	g.mu.Unlock()
	return hit
}

// hit reports whether w's run was interrupted for memory so far.
func (g *Governor) hit(w *watch) bool {
	if w == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return w.hit
}

// loop samples the heap while any run is active; it exits when none is.
func (g *Governor) loop() {
	sample := []metrics.Sample{{Name: heapMetric}}
	t := time.NewTicker(g.interval)
	defer t.Stop()
	var over []*watch
	for range t.C {
		h := readHeap(sample)
		g.mu.Lock()
		if len(g.active) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.last = h
		if h < g.gcHeap {
			g.gcHeap = h
		}
		over = over[:0]
		minOver := uint64(0)
		for w := range g.active {
			if h < w.low {
				w.low = h
			}
			if h-w.low > w.limit && !w.hit {
				over = append(over, w)
				if minOver == 0 || w.limit < minOver {
					minOver = w.limit
				}
			}
		}
		g.mu.Unlock()
		// Force a GC only when the heap grew again since the last one, so a
		// heap full of garbage does not cause a GC storm.
		if len(over) == 0 || (g.gcHeap > 0 && h < g.gcHeap+minOver/2) {
			continue
		}
		// Garbage or live growth? Only a GC can tell.
		goruntime.GC()
		h = readHeap(sample)
		g.mu.Lock()
		g.last, g.gcHeap = h, h
		for w := range g.active {
			if h < w.low {
				w.low = h
			}
		}
		for _, w := range over {
			if _, ok := g.active[w]; ok && h > w.low && h-w.low > w.limit {
				w.hit = true
				w.s.interrupt(errMemory{w.limit})
			}
		}
		g.mu.Unlock()
	}
}

// check is the sampler's decision made synchronously, on the run's own
// goroutine, when the guards have seen it make another checkStep of
// strings (guards.grew): at the same point of the program every time,
// however starved of CPU the sampler is. It reports whether the run is
// over its budget (and interrupts it then).
func (g *Governor) check(w *watch) bool {
	if w == nil {
		return false
	}
	sample := []metrics.Sample{{Name: heapMetric}}
	h := readHeap(sample)
	g.mu.Lock()
	if h < w.low {
		w.low = h
	}
	hit := w.hit
	over := !hit && h-w.low > w.limit
	// As in loop: no GC storm from a heap full of garbage.
	gc := over && (g.gcHeap == 0 || h >= g.gcHeap+w.limit/2)
	g.mu.Unlock()
	if !gc {
		return hit
	}
	goruntime.GC()
	h = readHeap(sample)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.last, g.gcHeap = h, h
	for a := range g.active {
		if h < a.low {
			a.low = h
		}
	}
	if h > w.low && h-w.low > w.limit && !w.hit {
		w.hit = true
		w.s.interrupt(errMemory{w.limit})
	}
	return w.hit
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatUint(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatUint(n>>10, 10) + " KiB"
	}
	return strconv.FormatUint(n, 10) + " bytes"
}
