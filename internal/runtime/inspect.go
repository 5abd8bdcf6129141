package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/dop251/goja"
)

// Inspect evaluates a bundle's top-level code once, with no bindings —
// kinde is an empty object and console discards — and calls read with
// module.exports while the run is still bounded. The sync engine reads
// workflowSettings this way, so hostile top-level code meets the same
// allocation guards, memory budget, call depth and wall time as an
// invocation. The runtime is used once, so it is neither frozen nor pooled.
//
// code runs unwrapped under the name "bundle.js", so goja's positions are
// the bundle's own. Errors are goja's (*goja.CompilerSyntaxError,
// *goja.Exception, *goja.StackOverflowError, *goja.InterruptedError whose
// value says which limit ended the run) or a setup error; a panic in read
// or in goja is recovered into an error.
func (e *Engine) Inspect(ctx context.Context, code []byte, read func(vm *goja.Runtime, exports goja.Value) error) (err error) {
	prog, err := goja.Compile(bundleName, string(code), false)
	if err != nil {
		return err
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(e.limits.MaxCallStackSize)
	if err := e.install(vm); err != nil {
		return fmt.Errorf("install globals: %w", err)
	}
	if _, err := e.guard(vm, false); err != nil {
		return err
	}
	module, err := commonJS(vm)
	if err != nil {
		return fmt.Errorf("prepare sandbox: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, e.limits.WallTime)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			vm.Interrupt(errDeadline{e.limits.WallTime})
		} else {
			vm.Interrupt(errCancelled)
		}
	})
	defer stop()
	w := e.gov.start(vm)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
		var interrupted *goja.InterruptedError
		if e.gov.stop(w) && !errors.As(err, &interrupted) {
			err = errMemory{e.limits.MemoryBytes}
		}
	}()
	if _, err := vm.RunProgram(prog); err != nil {
		return err
	}
	// Reading the exports may run user getters: still bounded.
	return read(vm, module.Get("exports"))
}

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
		panic(vm.NewTypeError("require(%q) is not available: workflows are bundled, so import the package instead and install it in the repository", call.Argument(0).String()))
	}
	for name, v := range map[string]any{"kinde": vm.NewObject(), "console": console, "module": module, "exports": exports, "require": require} {
		if err := vm.Set(name, v); err != nil {
			return nil, err
		}
	}
	return module, nil
}
