package bindings

import (
	"fmt"

	"github.com/dop251/goja"
)

// throwError throws a JS Error with a redacted message.
func (inv *Invocation) throwError(format string, args ...any) {
	msg := inv.Redact(fmt.Sprintf(format, args...))
	obj, err := inv.vm.New(inv.vm.Get("Error"), inv.vm.ToValue(msg))
	if err != nil {
		panic(inv.vm.NewGoError(fmt.Errorf("%s", msg)))
	}
	panic(obj)
}

// throwType throws a JS TypeError with a redacted message.
func (inv *Invocation) throwType(format string, args ...any) {
	panic(inv.vm.NewTypeError(inv.Redact(fmt.Sprintf(format, args...))))
}

// stringArg returns argument i, which must be a string.
func (inv *Invocation) stringArg(call goja.FunctionCall, i int, fn, param string) string {
	v := call.Argument(i)
	s, ok := v.Export().(string)
	if !ok {
		inv.throwType("%s: %s must be a string, got %s", fn, param, typeOf(v))
	}
	return s
}

// optStringArg is stringArg that also accepts undefined and null (as "").
func (inv *Invocation) optStringArg(call goja.FunctionCall, i int, fn, param string) string {
	v := call.Argument(i)
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	return inv.stringArg(call, i, fn, param)
}

// typeOf names a value's JS type for error messages.
func typeOf(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if _, fn := goja.AssertFunction(o); fn {
			return "function"
		}
		if o.ClassName() == "Array" {
			return "array"
		}
		return "object"
	}
	switch v.Export().(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	}
	return v.ExportType().String()
}

// stringify is the realm's JSON.stringify(v); it may throw (cycles, BigInt).
func (inv *Invocation) stringify(v goja.Value) goja.Value {
	fn, _ := goja.AssertFunction(inv.vm.Get("JSON").ToObject(inv.vm).Get("stringify"))
	r, err := fn(goja.Undefined(), v)
	if err != nil {
		panic(err)
	}
	return r
}

// parseJSON is the realm's JSON.parse(s); ok is false when s is not JSON.
func (inv *Invocation) parseJSON(s string) (v goja.Value, ok bool) {
	fn, _ := goja.AssertFunction(inv.vm.Get("JSON").ToObject(inv.vm).Get("parse"))
	r, err := fn(goja.Undefined(), inv.vm.ToValue(s))
	if err != nil {
		if _, isJS := err.(*goja.Exception); !isJS {
			panic(err) // interrupted: let it unwind
		}
		return nil, false
	}
	return r, true
}
