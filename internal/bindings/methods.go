package bindings

import (
	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// hostMethod is one host function of a kinde.* object, with the JS name
// it shows (goja would otherwise name it after the Go function, which
// shows host paths such as "…/bindings.(*Invocation).fetch-fm").
type hostMethod struct {
	name string
	fn   func(inv *Invocation, call goja.FunctionCall) goja.Value
}

// objectMethods are the methods of the kinde.* objects, by binding
// (kinde.cache is there too, though it is not a declared binding).
var objectMethods = map[string][]hostMethod{
	workflow.BindAuth:         {{"denyAccess", (*Invocation).denyAccess}},
	workflow.BindEnv:          {{"get", (*Invocation).envGet}, {"getEnvironmentVariable", (*Invocation).envGet}},
	workflow.BindMFA:          {{"setEnforcementPolicy", (*Invocation).setEnforcementPolicy}},
	workflow.BindPlan:         {{"denySelection", (*Invocation).denySelection}, {"denyCancellation", (*Invocation).denyCancellation}},
	workflow.BindWidget:       {{"invalidateFormField", (*Invocation).invalidateFormField}},
	workflow.BindLocalization: {{"get", (*Invocation).localizationGet}},
	workflow.BindRisk:         {{"setScore", (*Invocation).setScore}, {"getScore", (*Invocation).getScore}},
	workflow.BindSSOSession:   {{"setPolicy", (*Invocation).setSSOPolicy}},
	bindCache:                 {{"jwtToken", (*Invocation).jwtToken}},
}

// functionBindings are the kinde.* members that are functions themselves.
var functionBindings = map[string]hostMethod{
	workflow.BindFetch:       {"fetch", (*Invocation).fetch},
	workflow.BindSecureFetch: {"secureFetch", (*Invocation).secureFetch},
}

const bindCache = "kinde.cache"

// hostFunc makes a native function that shows name as its JS name.
func hostFunc(vm *goja.Runtime, name string, f func(goja.FunctionCall) goja.Value) (*goja.Object, error) {
	o := vm.ToValue(f).(*goja.Object)
	err := o.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return o, err
}

// function is the host function m of binding: the realm's prebuilt one,
// or one made for this invocation.
func (inv *Invocation) function(binding string, m hostMethod) goja.Value {
	if inv.realm != nil {
		return inv.realm.method(binding, m)
	}
	f, err := hostFunc(inv.vm, m.name, func(call goja.FunctionCall) goja.Value { return m.fn(inv, call) })
	if err != nil {
		panic(err)
	}
	return f
}

// object builds binding's kinde.* object from its methods.
func (inv *Invocation) object(binding string) *goja.Object {
	o := inv.vm.NewObject()
	for _, m := range objectMethods[binding] {
		o.Set(m.name, inv.function(binding, m))
	}
	return o
}
