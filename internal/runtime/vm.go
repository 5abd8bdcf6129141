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
	// why is what interrupted the current run (wall time, cancel,
	// memory); nil while it runs normally. Guards read it to end native
	// loops that vm.Interrupt cannot reach.
	why atomic.Pointer[stopReason]

	// kinde and console are the running invocation's objects, which
	// globalThis.kinde and globalThis.console return (current.go); nil
	// between runs.
	kinde, console *goja.Object
}

type stopReason struct{ err error }

// interrupt ends the run on s with err. The first reason wins, in the
// Result's kind and in goja's interrupt value alike.
func (s *slot) interrupt(err error) {
	if s.why.CompareAndSwap(nil, &stopReason{err}) {
		s.vm.Interrupt(err)
	}
}

// stopped is the reason the current run was interrupted, or nil.
func (s *slot) stopped() error {
	if r := s.why.Load(); r != nil {
		return r.err
	}
	return nil
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

// shorten brings the limit of the run rc forward to at most d from now.
func (s *slot) shorten(rc *runCtx, d time.Duration) {
	if time.Until(rc.deadline) > d && s.timer.Stop() {
		s.timer.Reset(d)
	}
}

func (s *slot) expire() {
	if rc := s.cur.Load(); rc != nil && rc.end(context.DeadlineExceeded) {
		s.interrupt(errDeadline{s.wall})
	}
}

// newSlot builds a runtime: bindings' globals, allocation guards (Go,
// then setup.js for constructors), the frozen intrinsics, then the
// program's wrapper function.
func (e *Engine) newSlot(p *Program) (*slot, error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(e.limits.MaxCallStackSize)
	s := &slot{vm: vm}
	if err := e.install(vm); err != nil {
		return nil, fmt.Errorf("install globals: %w", err)
	}
	if err := installCurrent(s); err != nil {
		return nil, err
	}
	if e.fresh {
		// The baseline: a fresh runtime isolates by construction, as in
		// Kinde's runtime, so it skips the guards, the freeze and the
		// prebuilt bindings.
		return s, e.instantiate(p, s)
	}
	if e.realms {
		r, err := bindings.NewRealm(vm)
		if err != nil {
			return nil, err
		}
		s.realm = r
	}
	if err := e.guard(s, true); err != nil {
		return nil, err
	}
	if err := e.instantiate(p, s); err != nil {
		return nil, err
	}
	return s, nil
}

// guard installs the guards on s's runtime (Go natives, then setup.js
// for the constructors and dynamic code) and, when freeze is set,
// deep-freezes its intrinsics and global object.
func (e *Engine) guard(s *slot, freeze bool) error {
	vm := s.vm
	g, err := installGuards(s, e.limits)
	if err != nil {
		return err
	}
	setup, err := setupProgram()
	if err != nil {
		return fmt.Errorf("compile setup: %w", err)
	}
	fn, err := vm.RunProgram(setup)
	if err != nil {
		return fmt.Errorf("run setup: %w", err)
	}
	call, _ := goja.AssertFunction(fn)
	limits := vm.NewObject()
	_ = limits.Set("maxStringLength", e.limits.MaxStringLength)
	_ = limits.Set("maxArrayLength", e.limits.MaxArrayLength)
	_ = limits.Set("maxBufferBytes", e.limits.MaxBufferBytes)
	_ = limits.Set("freeze", freeze)
	_ = limits.Set("wrap", g.wrapNative)
	_ = limits.Set("over", func(c goja.FunctionCall) goja.Value {
		g.over(c.Argument(0).String(), c.Argument(1).ToFloat(), c.Argument(2).ToInteger())
		return nil
	})
	_ = limits.Set("checkSource", g.checkSource)
	_ = limits.Set("makeProxy", g.makeProxy)
	_ = limits.Set("checkPattern", g.checkPattern)
	_ = limits.Set("checkProto", g.checkProto)
	_ = limits.Set("toIndex", g.toIndex)
	_ = limits.Set("guardProtoSetter", g.guardProtoSetter)
	if _, err := call(goja.Undefined(), limits); err != nil {
		return fmt.Errorf("freeze runtime: %w", err)
	}
	g.ready = true
	g.wrapped = nil // only setup wraps
	g.end()         // setup's own bound functions are not the first run's
	s.guards = g
	return nil
}

// instantiate evaluates the program's wrapper function on s's runtime.
// The wrapper outlives invocations, so it is frozen with its prototype
// object (strict code cannot reach it through arguments.callee, but a
// sloppy function from new Function could try other paths).
func (e *Engine) instantiate(p *Program, s *slot) error {
	vm := s.vm
	w, err := vm.RunProgram(p.prog)
	if err != nil {
		return fmt.Errorf("instantiate bundle: %w", err)
	}
	wrapper, ok := goja.AssertFunction(w)
	if !ok {
		return fmt.Errorf("instantiate bundle: wrapper is not a function")
	}
	req := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		panic(vm.NewTypeError(requireMessage(call.Argument(0))))
	})
	// require is shared by the runtime's invocations: freeze it too.
	freeze, err := vm.RunString("Object.freeze")
	if err != nil {
		return fmt.Errorf("freeze require: %w", err)
	}
	freezeFn, _ := goja.AssertFunction(freeze)
	for _, v := range []goja.Value{req, w, w.(*goja.Object).Get("prototype")} {
		if v == nil || goja.IsUndefined(v) {
			continue
		}
		if _, err := freezeFn(goja.Undefined(), v); err != nil {
			return fmt.Errorf("freeze shared functions: %w", err)
		}
	}
	keys := &eventKeys{proto: e.protoKeys(vm)}
	if !e.fresh {
		keys.intern = map[string]string{}
	}
	s.wrapper, s.require, s.keys = wrapper, req, keys
	return nil
}

// requireMessage is require's refusal: a plain TypeError, the same in
// invocations and settings reading.
func requireMessage(name goja.Value) string {
	n := "?"
	if s, ok := name.(goja.String); ok {
		n = s.String()
		if len(n) > 200 {
			n = n[:200] + "…"
		}
	}
	return fmt.Sprintf("require(%q) is not available: Flowgate bundles every import, "+
		"so import the package instead and install it in the repository", n)
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
			e.idle.Add(-1)
			return s, nil
		default:
		}
	}
	return e.newSlot(p)
}

// put returns a runtime that finished cleanly to the pool, unless the pool
// is full, the engine holds MaxIdleRuntimes idle runtimes over all its
// programs, the engine is closed, or the runtime has served MaxUses
// invocations.
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
				e.pool(p, ns)
			}
		}()
	}
	e.pool(p, s)
}

// pool keeps s idle in p's pool when the caps allow.
func (e *Engine) pool(p *Program, s *slot) {
	if e.closed.Load() || p.evicted.Load() {
		return
	}
	if e.idle.Add(1) > int64(e.limits.MaxIdleRuntimes) {
		e.idle.Add(-1)
		return
	}
	select {
	case p.pool <- s:
		if e.closed.Load() || p.evicted.Load() {
			e.drain(p) // evicted while s went in
		}
	default:
		e.idle.Add(-1)
	}
}

// drain drops p's idle runtimes.
func (e *Engine) drain(p *Program) {
	for {
		select {
		case <-p.pool:
			e.idle.Add(-1)
		default:
			return
		}
	}
}
