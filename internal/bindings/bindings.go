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
	// jsonRead is set once code reads a kinde.fetch response's json: a
	// "not a function" failure then most likely is res.json().
	jsonRead bool

	redactor    *redactor // built on first use
	secretForms []string  // every spelling of every secret, longest first
	// secretNumbers are the numeric secrets' values (a PIN as Number() reads it).
	secretNumbers []float64
	logLines      int
	logBytes      int
	logsCut       bool
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
	if inv.realm != nil {
		k.SetPrototype(inv.realm.undeclaredProto())
	} else {
		k.SetPrototype(undeclaredProto(inv.vm, func() *Invocation { return inv }))
	}
	inv.kinde = k
	return k
}

// kindeMembers are the kinde.* names a workflow may read, by property:
// every kinde.* binding, and kinde.cache (there when kinde.fetch or
// secureFetch is).
var kindeMembers = func() map[string]string {
	out := map[string]string{"cache": bindCache}
	for _, b := range workflow.Bindings {
		if key, ok := strings.CutPrefix(b, "kinde."); ok {
			out[key] = b
		}
	}
	return out
}()

// undeclaredProto is the prototype of the kinde object: a frozen Proxy
// whose get trap sees every read of a property kinde lacks. A known
// binding name (not declared, or not allowed for the trigger) reads as
// undefined, exactly as an absent property, and is recorded for
// Undeclared; `in` and Object.keys still show only the declared ones, and
// assigning to a name makes an own property of kinde as usual. cur is the
// invocation the reads belong to.
func undeclaredProto(vm *goja.Runtime, cur func() *Invocation) *goja.Object {
	target := vm.NewObject()
	p := vm.NewProxy(target, &goja.ProxyTrapConfig{
		Get: func(target *goja.Object, property string, receiver goja.Value) goja.Value {
			if name, known := kindeMembers[property]; known {
				if inv := cur(); inv != nil {
					inv.noteUndeclared(name)
				}
				return goja.Undefined()
			}
			return get(target, property)
		},
	})
	return vm.ToValue(p).(*goja.Object)
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

// ReadFetchJSON reports whether the code read the json of a kinde.fetch
// or kinde.secureFetch response.
func (inv *Invocation) ReadFetchJSON() bool { return inv.jsonRead }

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
