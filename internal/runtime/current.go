package runtime

import (
	"fmt"

	"github.com/dop251/goja"
)

// installCurrent defines globalThis.kinde and globalThis.console, as
// Kinde's runtime has them, as accessors that return the objects of the
// invocation running on s, and undefined between runs. They are
// accessors (not values) because the global object is frozen and shared
// by the runtime's invocations: a value would carry one run's kinde into
// the next, while a getter hands each run only its own. They have no
// setter, so `globalThis.kinde = x` cannot leave anything behind either.
func installCurrent(s *slot) error {
	vm := s.vm
	g := vm.GlobalObject()
	for _, name := range []string{"kinde", "console"} {
		pick := name
		get := vm.ToValue(func(goja.FunctionCall) goja.Value {
			var v *goja.Object
			if pick == "kinde" {
				v = s.kinde
			} else {
				v = s.console
			}
			if v == nil {
				return goja.Undefined()
			}
			return v
		})
		// A getter is a function: name it as V8 does ("get kinde").
		if err := get.(*goja.Object).DefineDataProperty("name", vm.ToValue("get "+pick),
			goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return fmt.Errorf("global %s: %w", pick, err)
		}
		if err := g.DefineAccessorProperty(pick, get, nil, goja.FLAG_FALSE, goja.FLAG_FALSE); err != nil {
			return fmt.Errorf("global %s: %w", pick, err)
		}
	}
	return nil
}

// setCurrent makes b's objects the ones globalThis.kinde and
// globalThis.console return; clearCurrent forgets them when the run ends.
func (s *slot) setCurrent(kinde, console *goja.Object) { s.kinde, s.console = kinde, console }

func (s *slot) clearCurrent() { s.kinde, s.console = nil, nil }
