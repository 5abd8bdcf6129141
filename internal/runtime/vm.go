package runtime

import (
	"context"
	_ "embed"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/bindings"
)

//go:embed setup.js
var setupJS string

var setupProgram = sync.OnceValues(func() (*goja.Program, error) {
	return goja.Compile("flowgate-setup.js", setupJS, true)
})

// slot is one runtime set up and frozen for one program: wrapper is the
// bundle's function expression, called once per invocation.
type slot struct {
	vm      *goja.Runtime
	wrapper goja.Callable
	require goja.Value
	realm   *bindings.Realm // nil when Options.NewBindings is set
	keys    *eventKeys
	guards  *guards // nil for the fresh baseline
	uses    int

	// The wall-time limit: one timer per runtime, re-armed for each run
	// (a context.WithTimeout per run cost ten allocations).
	wall  time.Duration
	timer *time.Timer
	cur   atomic.Pointer[runCtx]
}

// arm starts the wall-time limit of the run rc on s.
func (s *slot) arm(rc *runCtx, wall time.Duration) {
	s.cur.Store(rc)
	if s.timer == nil {
		s.wall = wall
		s.timer = time.AfterFunc(wall, s.expire)
		return
	}
	s.timer.Reset(wall)
}

// disarm stops the limit; false means it fired (or is firing), so an
// interrupt may be pending on the runtime.
func (s *slot) disarm() bool {
	stopped := s.timer.Stop()
	s.cur.Store(nil)
	return stopped
}

func (s *slot) expire() {
	if rc := s.cur.Load(); rc != nil && rc.end(context.DeadlineExceeded) {
		s.vm.Interrupt(errDeadline{s.wall})
	}
}

// newSlot builds a runtime: bindings' globals, allocation guards (Go,
// then setup.js for constructors), the frozen intrinsics, then the program's wrapper function.
func (e *Engine) newSlot(p *Program) (*slot, error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(e.limits.MaxCallStackSize)
	if err := e.install(vm); err != nil {
		return nil, fmt.Errorf("install globals: %w", err)
	}
	if e.fresh {
		// The baseline: a fresh runtime isolates by construction, as in
		// Kinde's runtime, so it skips the guards, the freeze and the
		// prebuilt bindings.
		return e.instantiate(p, vm, nil)
	}
	var realm *bindings.Realm
	if e.realms {
		r, err := bindings.NewRealm(vm)
		if err != nil {
			return nil, err
		}
		realm = r
	}
	g, err := e.guard(vm, true)
	if err != nil {
		return nil, err
	}
	s, err := e.instantiate(p, vm, realm)
	if err != nil {
		return nil, err
	}
	s.guards = g
	return s, nil
}

// guard installs the allocation guards on vm (Go natives, then setup.js
// for the constructors) and, when freeze is set, deep-freezes its
// intrinsics and global object.
func (e *Engine) guard(vm *goja.Runtime, freeze bool) (*guards, error) {
	g, err := installGuards(vm, e.limits)
	if err != nil {
		return nil, err
	}
	setup, err := setupProgram()
	if err != nil {
		return nil, fmt.Errorf("compile setup: %w", err)
	}
	fn, err := vm.RunProgram(setup)
	if err != nil {
		return nil, fmt.Errorf("run setup: %w", err)
	}
	call, _ := goja.AssertFunction(fn)
	limits := vm.NewObject()
	_ = limits.Set("maxStringLength", e.limits.MaxStringLength)
	_ = limits.Set("maxArrayLength", e.limits.MaxArrayLength)
	_ = limits.Set("maxBufferBytes", e.limits.MaxBufferBytes)
	_ = limits.Set("freeze", freeze)
	if _, err := call(goja.Undefined(), limits); err != nil {
		return nil, fmt.Errorf("freeze runtime: %w", err)
	}
	return g, nil
}

// instantiate evaluates the program's wrapper function on vm.
func (e *Engine) instantiate(p *Program, vm *goja.Runtime, realm *bindings.Realm) (*slot, error) {
	w, err := vm.RunProgram(p.prog)
	if err != nil {
		return nil, fmt.Errorf("instantiate bundle: %w", err)
	}
	wrapper, ok := goja.AssertFunction(w)
	if !ok {
		return nil, fmt.Errorf("instantiate bundle: wrapper is not a function")
	}
	req := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		panic(vm.NewGoError(fmt.Errorf("require(%q) is not available: Flowgate bundles every import; "+
			"a package left external cannot be loaded at run time", call.Argument(0).String())))
	})
	// require is shared by the runtime's invocations: freeze it too.
	freeze, err := vm.RunString("Object.freeze")
	if err != nil {
		return nil, fmt.Errorf("freeze require: %w", err)
	}
	freezeFn, _ := goja.AssertFunction(freeze)
	if _, err := freezeFn(goja.Undefined(), req); err != nil {
		return nil, fmt.Errorf("freeze require: %w", err)
	}
	keys := &eventKeys{proto: e.protoKeys(vm)}
	if !e.fresh {
		keys.intern = map[string]string{}
	}
	return &slot{vm: vm, wrapper: wrapper, require: req, realm: realm, keys: keys}, nil
}

// protoKeys is protoKeys of the engine's first runtime: every runtime an
// engine builds is set up the same way before any workflow code runs, and
// a pooled one is frozen, so their Object.prototype names are the same.
func (e *Engine) protoKeys(vm *goja.Runtime) map[string]bool {
	e.protoOnce.Do(func() { e.proto = protoKeys(vm) })
	return e.proto
}

// get takes a warm runtime from the pool, or builds one while it warms.
func (e *Engine) get(p *Program) (*slot, error) {
	if !e.fresh {
		select {
		case s := <-p.pool:
			return s, nil
		default:
		}
	}
	return e.newSlot(p)
}

// put returns a runtime that finished cleanly to the pool, unless the pool
// is full or the runtime has served MaxUses invocations.
func (e *Engine) put(p *Program, s *slot) {
	if e.fresh {
		return
	}
	s.uses++
	if s.uses >= e.limits.MaxUses || s.guards != nil && s.guards.registryFull() {
		return
	}
	if s.uses == e.limits.MaxUses-e.limits.MaxUses/10 {
		// Build this runtime's successor in the background, so that
		// retiring it never makes a request wait for a new runtime (the
		// setup and freeze take milliseconds).
		go func() {
			if ns, err := e.newSlot(p); err == nil {
				select {
				case p.pool <- ns:
				default:
				}
			}
		}()
	}
	select {
	case p.pool <- s:
	default:
	}
}
