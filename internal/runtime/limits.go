package runtime

import (
	goruntime "runtime"
	"time"
)

// Limits bound one invocation and the engine's caches. A zero field takes
// its default (see LIMITS.md for the reasons behind each number).
type Limits struct {
	// WallTime ends an invocation (vm.Interrupt) that runs longer. Default 5s.
	WallTime time.Duration
	// MemoryBytes is the heap growth one invocation may cause before it is
	// interrupted. Default 64 MiB. Enforced approximately by a sampler.
	MemoryBytes uint64
	// MaxCallStackSize is goja's call depth limit. Default 1000.
	MaxCallStackSize int
	// MaxStringLength caps strings built by one native call (repeat, padEnd,
	// join, JSON.stringify, replace…), in UTF-16 code units. Default 16 Mi.
	MaxStringLength int
	// MaxArrayLength caps the length of arrays and array-likes handed to
	// native array methods (they iterate holes natively). Default 1 Mi.
	MaxArrayLength int
	// MaxBufferBytes caps one ArrayBuffer or typed array. Default 16 MiB.
	MaxBufferBytes int
	// MaxResultBytes caps the claims and logs a Result carries. Default 1 MiB.
	MaxResultBytes int
	// PoolSize is how many idle runtimes are kept per program. Default GOMAXPROCS.
	PoolSize int
	// MaxUses recycles a pooled runtime after this many invocations: a
	// backstop for slow per-runtime growth (the one known source, the
	// Symbol.for registry, is bounded directly). Default 10000.
	MaxUses int
	// MaxIdleRuntimes caps the idle runtimes an Engine keeps over all its
	// programs (each is about 600 KiB). Default 64.
	MaxIdleRuntimes int
	// MaxPrograms is how many compiled programs the engine caches (LRU). Default 256.
	MaxPrograms int
	// SampleInterval is how often the memory sampler reads the heap. Default 2ms.
	SampleInterval time.Duration
}

// Defaults returns the default limits.
func Defaults() Limits {
	return Limits{}.withDefaults()
}

func (l Limits) withDefaults() Limits {
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	if l.WallTime <= 0 {
		l.WallTime = 5 * time.Second
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = 64 << 20
	}
	set(&l.MaxCallStackSize, 1000)
	set(&l.MaxStringLength, 16<<20)
	set(&l.MaxArrayLength, 1<<20)
	set(&l.MaxBufferBytes, 16<<20)
	set(&l.MaxResultBytes, 1<<20)
	set(&l.PoolSize, goruntime.GOMAXPROCS(0))
	set(&l.MaxUses, 10000)
	set(&l.MaxPrograms, 256)
	set(&l.MaxIdleRuntimes, 64)
	if l.SampleInterval <= 0 {
		l.SampleInterval = 2 * time.Millisecond
	}
	return l
}
