package runtime

import (
	goruntime "runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"

	"github.com/dop251/goja"
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

type governor struct {
	limit    uint64
	interval time.Duration

	mu      sync.Mutex
	running bool
	last    uint64 // heap at the last sample
	gcHeap  uint64 // heap after the last forced GC
	active  map[*watch]struct{}
}

type watch struct {
	vm  *goja.Runtime
	low uint64
	hit bool // interrupted for memory; guarded by governor.mu
}

func newGovernor(limit uint64, interval time.Duration) *governor {
	return &governor{limit: limit, interval: interval, active: map[*watch]struct{}{}}
}

func readHeap(s []metrics.Sample) uint64 {
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// start watches vm until the returned watch is passed to stop.
func (g *governor) start(vm *goja.Runtime) *watch {
	w := &watch{vm: vm}
	g.mu.Lock()
	if !g.running {
		g.running = true
		g.last = readHeap([]metrics.Sample{{Name: heapMetric}})
		go g.loop()
	}
	w.low = g.last
	g.active[w] = struct{}{}
	g.mu.Unlock()
	return w
}

// stop ends the watch and reports whether it was interrupted for memory.
func (g *governor) stop(w *watch) (hit bool) {
	g.mu.Lock()
	delete(g.active, w)
	hit = w.hit
	g.mu.Unlock()
	return hit
}

// loop samples the heap while any invocation runs; it exits when none does.
func (g *governor) loop() {
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
		for w := range g.active {
			if h < w.low {
				w.low = h
			}
			if h-w.low > g.limit && !w.hit {
				over = append(over, w)
			}
		}
		g.mu.Unlock()
		// Force a GC only when the heap grew again since the last one, so a
		// heap full of garbage does not cause a GC storm.
		if len(over) == 0 || (g.gcHeap > 0 && h < g.gcHeap+g.limit/2) {
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
			if _, ok := g.active[w]; ok && h > w.low && h-w.low > g.limit {
				w.hit = true
				w.vm.Interrupt(errMemory{g.limit})
			}
		}
		g.mu.Unlock()
	}
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
