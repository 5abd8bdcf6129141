package bindings

import (
	"context"
	"fmt"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Realm is one runtime's prebuilt method set for the hot per-invocation
// objects (console and the token bindings). Making a goja function costs
// an object with its own properties, so building them for every
// invocation dominated the bindings' setup; a Realm makes them once,
// freezes them (they outlive invocations, so no run may change them for
// the next), and they act on the invocation currently running on the
// runtime. The console and kinde objects themselves stay per invocation.
//
// A Realm is used from the goroutine that runs vm only, one invocation at
// a time; each New replaces the current invocation.
type Realm struct {
	vm      *goja.Runtime
	cur     *Invocation
	freeze  goja.Callable
	console [len(consoleMethods)]goja.Value
	tokens  map[string][2]goja.Value // binding -> setCustomClaim, getCustomClaims
	// methods are the other kinde.* host functions, made on first use
	// (most workflows use none of them), by binding and name.
	methods map[hostKey]goja.Value
	// proto is the kinde objects' prototype that records reads of
	// undeclared bindings (bindings.go, undeclaredProto), made on first use.
	proto *goja.Object
}

type hostKey struct{ binding, name string }

var consoleMethods = [...]struct{ name, level string }{
	{"log", "info"}, {"info", "info"}, {"debug", "debug"}, {"warn", "warn"}, {"error", "error"}, {"trace", "debug"},
}

// NewRealm builds vm's method set. Call it once per runtime, before
// running any workflow code on it.
func NewRealm(vm *goja.Runtime) (*Realm, error) {
	r := &Realm{vm: vm, tokens: map[string][2]goja.Value{}, methods: map[hostKey]goja.Value{}}
	freezeFn, ok := goja.AssertFunction(vm.Get("Object").ToObject(vm).Get("freeze"))
	if !ok {
		return nil, fmt.Errorf("bindings realm: Object.freeze is not a function")
	}
	r.freeze = freezeFn
	fn := r.hostFunc
	var err error
	for i, m := range consoleMethods {
		level := m.level
		if r.console[i], err = fn(m.name, func(inv *Invocation, call goja.FunctionCall) goja.Value {
			inv.log(level, inv.format(call.Arguments))
			return goja.Undefined()
		}); err != nil {
			return nil, err
		}
	}
	for _, b := range []string{workflow.BindAccessToken, workflow.BindIDToken, workflow.BindM2MToken} {
		binding := b
		set, err := fn("setCustomClaim", func(inv *Invocation, call goja.FunctionCall) goja.Value {
			return inv.setCustomClaim(binding, call)
		})
		if err != nil {
			return nil, err
		}
		get, err := fn("getCustomClaims", func(inv *Invocation, call goja.FunctionCall) goja.Value {
			return inv.getCustomClaims(binding)
		})
		if err != nil {
			return nil, err
		}
		r.tokens[binding] = [2]goja.Value{set, get}
	}
	return r, nil
}

// hostFunc makes a frozen native function named name that runs f on the
// invocation current when it is called.
func (r *Realm) hostFunc(name string, f func(inv *Invocation, call goja.FunctionCall) goja.Value) (goja.Value, error) {
	vm := r.vm
	v, err := hostFunc(vm, name, func(call goja.FunctionCall) goja.Value {
		if r.cur == nil {
			panic(vm.NewTypeError("%s called outside a workflow run", name))
		}
		return f(r.cur, call)
	})
	if err != nil {
		return nil, err
	}
	_, err = r.freeze(goja.Undefined(), v)
	return v, err
}

// method is the realm's function for m of binding, made on first use.
func (r *Realm) method(binding string, m hostMethod) goja.Value {
	k := hostKey{binding, m.name}
	if v, ok := r.methods[k]; ok {
		return v
	}
	v, err := r.hostFunc(m.name, m.fn)
	if err != nil {
		panic(err)
	}
	r.methods[k] = v
	return v
}

// New is New for the realm's runtime, with the prebuilt methods; it makes
// the new invocation the one the methods act on.
func (r *Realm) New(ctx context.Context, cfg *Config, res *workflow.Result) *Invocation {
	inv := New(ctx, r.vm, cfg, res)
	inv.realm = r
	r.cur = inv
	return inv
}

// End forgets the current invocation (its env, key, event and result), so
// an idle pooled runtime holds none of them; the realm's methods refuse to
// run until the next New.
func (r *Realm) End() { r.cur = nil }

// undeclaredProto is the realm's frozen prototype for kinde objects; it
// outlives invocations, so it is frozen (with its target) and holds no
// state of its own.
func (r *Realm) undeclaredProto() *goja.Object {
	if r.proto == nil {
		p := undeclaredProto(r.vm, func() *Invocation { return r.cur })
		if _, err := r.freeze(goja.Undefined(), p); err != nil {
			panic(err)
		}
		r.proto = p
	}
	return r.proto
}
