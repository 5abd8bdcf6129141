package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Inspect evaluates a bundle's top-level code once, with no bindings —
// kinde is an empty object and console discards — and calls read with
// module.exports while the run is still bounded. The sync engine reads
// workflowSettings this way, so hostile top-level code meets the same
// bounded run (bounded: wall time, memory budget, guards, call depth) as
// an invocation. The runtime is used once, so it is neither frozen nor
// pooled.
//
// code runs strict and unwrapped under the name "bundle.js", so goja's
// positions are the bundle's own. A failure is an *Error (KindOf gives
// its kind) wrapping goja's error (*goja.CompilerSyntaxError,
// *goja.Exception, *goja.StackOverflowError, *goja.InterruptedError whose
// value says which limit ended the run), a setup error, or read's error;
// a panic in read or in goja is recovered into an error.
func (e *Engine) Inspect(ctx context.Context, code []byte, read func(vm *goja.Runtime, exports goja.Value) error) error {
	if e.closed.Load() {
		return &Error{Kind: workflow.KindInternal, Err: errClosed}
	}
	prog, err := compileGuarded(bundleName, string(code)) // settings reading runs the top-level code too
	if err != nil {
		return err
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(e.limits.MaxCallStackSize)
	s := &slot{vm: vm}
	if err := e.install(vm); err != nil {
		return fmt.Errorf("install globals: %w", err)
	}
	if err := e.guard(s, false); err != nil {
		return err
	}
	module, err := commonJS(vm)
	if err != nil {
		return fmt.Errorf("prepare sandbox: %w", err)
	}
	rerr, _ := e.bounded(ctx, s, func(context.Context) error {
		if _, err := vm.RunProgram(prog); err != nil {
			return err
		}
		// Reading the exports may run user getters: still bounded.
		return read(vm, module.Get("exports"))
	}, func(re *Error) {
		re.text = cut(errText(re.Err), maxStack)
	})
	// The runtime is not used again, but the caller may still read the
	// error's thrown value or the exports (a getter, a toString), and that
	// code would run with no wall time: it gets one more wall time, then
	// an interrupt stops it at its next instruction or builtin.
	time.AfterFunc(e.limits.WallTime, func() {
		s.why.Store(&stopReason{errRunOver})
		vm.Interrupt(errRunOver)
	})
	if rerr != nil {
		return rerr
	}
	return nil
}

// errRunOver interrupts code run after its bounded run ended.
var errRunOver = errors.New("the run is over: no more workflow code runs")

// commonJS defines what a bundle may touch at load time: an empty kinde
// (so kinde.x is undefined, not a ReferenceError), a console that
// discards, and the CommonJS module, exports and require.
func commonJS(vm *goja.Runtime) (*goja.Object, error) {
	console := vm.NewObject()
	noop := func(goja.FunctionCall) goja.Value { return goja.Undefined() }
	for _, m := range []string{"log", "info", "debug", "warn", "error", "trace"} {
		if err := console.Set(m, noop); err != nil {
			return nil, err
		}
	}
	module := vm.NewObject()
	exports := vm.NewObject()
	if err := module.Set("exports", exports); err != nil {
		return nil, err
	}
	require := func(call goja.FunctionCall) goja.Value {
		panic(vm.NewTypeError(requireMessage(call.Argument(0))))
	}
	for name, v := range map[string]any{"kinde": vm.NewObject(), "console": console, "module": module, "exports": exports, "require": require} {
		if err := vm.Set(name, v); err != nil {
			return nil, err
		}
	}
	return module, nil
}
