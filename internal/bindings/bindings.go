package bindings

import (
	"context"
	"slices"
	"strings"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/outbound"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Invocation is one run's bindings: the kinde and console objects and the
// effects they record into the Result. It is used from the goroutine that
// runs vm only.
type Invocation struct {
	ctx context.Context
	vm  *goja.Runtime
	cfg *Config
	res *workflow.Result

	kinde   *goja.Object
	console *goja.Object
	realm   *Realm                 // prebuilt methods; nil builds them per invocation
	claims  map[string]*claimState // per token binding

	out        *outbound.Session // the run's HTTP: every request counted, made on first use
	refusals   []refusal         // the last values bindings threw, for BindingError
	undeclared []string          // known binding names read from kinde but not declared

	redactor    *strings.Replacer // built on first use
	secretForms []string          // every spelling of every secret, longest first
	logLines    int
	logBytes    int
	logsCut     bool
}

// New builds the kinde and console objects for one invocation on vm. Every
// effect (claims, denials, logs…) is written into res. ctx bounds host calls
// such as fetch. The objects themselves are built on first use of Kinde
// and Console.
func New(ctx context.Context, vm *goja.Runtime, cfg *Config, res *workflow.Result) *Invocation {
	if cfg == nil {
		cfg = &Config{}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if res == nil {
		res = &workflow.Result{}
	}
	return &Invocation{ctx: ctx, vm: vm, cfg: cfg, res: res}
}

// Kinde is the `kinde` object: the declared bindings the trigger allows,
// plus kinde.cache whenever kinde.fetch or kinde.secureFetch is there.
// Undeclared bindings are absent so the library's own "binding not
// available" errors show.
func (inv *Invocation) Kinde() *goja.Object {
	if inv.kinde != nil {
		return inv.kinde
	}
	k := inv.vm.NewObject()
	s := inv.cfg.Settings
	has := func(name string) bool { return s.Declares(name) && workflow.Allowed(s.Trigger, name) }
	for name, bs := range s.Bindings {
		if !workflow.Allowed(s.Trigger, name) {
			continue
		}
		key, ok := strings.CutPrefix(name, "kinde.")
		if !ok {
			continue // url and console are globals, not kinde members
		}
		if obj := inv.binding(name, bs); obj != nil {
			k.Set(key, obj)
		}
	}
	if has(workflow.BindFetch) || has(workflow.BindSecureFetch) {
		k.Set("cache", inv.object(bindCache))
	}
	for _, name := range kindeMembers {
		key := strings.TrimPrefix(name, "kinde.")
		if o := k.Get(key); o == nil {
			inv.watchUndeclared(k, name, key)
		}
	}
	inv.kinde = k
	return k
}

// kindeMembers are the kinde.* names a workflow may read: every kinde.*
// binding, and kinde.cache (there when kinde.fetch or secureFetch is).
var kindeMembers = func() []string {
	var out []string
	for _, b := range workflow.Bindings {
		if strings.HasPrefix(b, "kinde.") {
			out = append(out, b)
		}
	}
	return append(out, bindCache)
}()

// watchUndeclared makes kinde[key] (the binding name, not declared or not
// allowed for this trigger) a non-enumerable accessor that reads as
// undefined, as an absent property does, and records the read for
// Undeclared; assigning to it makes it a plain property.
func (inv *Invocation) watchUndeclared(k *goja.Object, name, key string) {
	var getter, setter goja.Value
	if inv.realm != nil {
		getter, setter = inv.realm.watchers(name, key)
	} else {
		getter, setter = watchers(inv.vm, name, key, func() *Invocation { return inv })
	}
	if err := k.DefineAccessorProperty(key, getter, setter, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		panic(err)
	}
}

// watchers are the getter and setter watchUndeclared defines; cur is the
// invocation they act on when called.
func watchers(vm *goja.Runtime, name, key string, cur func() *Invocation) (goja.Value, goja.Value) {
	get, err := hostFunc(vm, "get "+key, func(goja.FunctionCall) goja.Value {
		if inv := cur(); inv != nil {
			inv.noteUndeclared(name)
		}
		return goja.Undefined()
	})
	if err != nil {
		panic(err)
	}
	set, err := hostFunc(vm, "set "+key, func(call goja.FunctionCall) goja.Value {
		if inv := cur(); inv != nil && inv.kinde != nil {
			if err := inv.kinde.DefineDataProperty(key, call.Argument(0), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				panic(newError(vm, "TypeError", "Cannot assign to kinde."+key))
			}
		}
		return goja.Undefined()
	})
	if err != nil {
		panic(err)
	}
	return get, set
}

func (inv *Invocation) noteUndeclared(name string) {
	if !slices.Contains(inv.undeclared, name) {
		inv.undeclared = append(inv.undeclared, name)
	}
}

// Undeclared lists the kinde.* bindings this invocation's code read
// although the workflow did not declare them (or its trigger does not
// allow them), in the order first read: kinde.cache stands for "declare
// kinde.fetch". They read as undefined, so the library's own "binding not
// available" errors show; the runtime uses this list to say in a failed
// Result which binding to declare and how.
func (inv *Invocation) Undeclared() []string { return slices.Clone(inv.undeclared) }

// binding builds one kinde.* member, or nil for names Flowgate does not know.
func (inv *Invocation) binding(name string, bs workflow.BindingSettings) goja.Value {
	switch name {
	case workflow.BindAccessToken:
		inv.res.AccessToken = newToken(bs)
		return inv.tokenObject(name, inv.res.AccessToken)
	case workflow.BindIDToken:
		inv.res.IDToken = newToken(bs)
		return inv.tokenObject(name, inv.res.IDToken)
	case workflow.BindM2MToken:
		inv.res.M2MToken = newToken(bs)
		return inv.tokenObject(name, inv.res.M2MToken)
	case workflow.BindFetch, workflow.BindSecureFetch:
		return inv.function(name, functionBindings[name])
	}
	if _, ok := objectMethods[name]; ok && name != bindCache {
		return inv.object(name)
	}
	return nil
}

// Console is the `console` object; lines are formatted like Node's,
// redacted, capped and appended to res.Logs.
func (inv *Invocation) Console() *goja.Object {
	if inv.console != nil {
		return inv.console
	}
	c := inv.vm.NewObject()
	for i, m := range consoleMethods {
		if inv.realm != nil {
			c.Set(m.name, inv.realm.console[i])
			continue
		}
		level := m.level
		f, err := hostFunc(inv.vm, m.name, func(call goja.FunctionCall) goja.Value {
			inv.log(level, inv.format(call.Arguments))
			return goja.Undefined()
		})
		if err != nil {
			panic(err)
		}
		c.Set(m.name, f)
	}
	inv.console = c
	return c
}
