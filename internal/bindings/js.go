package bindings

import (
	"fmt"
	"reflect"

	"github.com/dop251/goja"
)

// Error is a binding's refusal of a call: undeclared or unavailable,
// not allowed, bad arguments, or the network policy. The JS exception the
// workflow sees is an ordinary Error or TypeError with the same message;
// the runtime asks Invocation.BindingError for the *Error behind a thrown
// value to classify the failed run as workflow.KindBinding by type, never
// by message text.
type Error struct {
	Kind    ErrorKind
	Message string // as thrown, redacted
}

func (e *Error) Error() string { return e.Message }

// ErrorKind says what a binding refused.
type ErrorKind string

// The kinds of refusal.
const (
	ErrUnavailable   ErrorKind = "unavailable"    // the binding is not declared for this run, or lacks what it needs (an encryption key)
	ErrBadArgument   ErrorKind = "bad-argument"   // an argument of the wrong type or value, or over a size limit
	ErrNetworkPolicy ErrorKind = "network-policy" // a refused address or redirect, the request cap, the response size limit
	ErrRequestFailed ErrorKind = "request-failed" // the request was allowed but failed: DNS, connection, timeout
)

// maxRefusals bounds the thrown values remembered for BindingError: a
// workflow that catches refusals in a loop must not grow the list.
const maxRefusals = 8

type refusal struct {
	obj *goja.Object
	err *Error
}

// BindingError returns the refusal behind thrown, a value a binding threw
// during this invocation (and that may have been caught and rethrown), or
// nil when thrown is anything else.
func (inv *Invocation) BindingError(thrown goja.Value) *Error {
	o, ok := thrown.(*goja.Object)
	if !ok {
		return nil
	}
	for _, r := range inv.refusals {
		if r.obj == o {
			return r.err
		}
	}
	return nil
}

// fail throws a JS error made by the constructor ctor ("Error" or
// "TypeError") with a redacted message, formatted once (a "%" in user
// text stays as it is), and remembers it as a refusal of kind.
func (inv *Invocation) fail(kind ErrorKind, ctor string, format string, args ...any) {
	msg := inv.Redact(fmt.Sprintf(format, args...))
	obj := newError(inv.vm, ctor, msg)
	if len(inv.refusals) == maxRefusals {
		inv.refusals = append(inv.refusals[:0], inv.refusals[1:]...)
	}
	inv.refusals = append(inv.refusals, refusal{obj, &Error{Kind: kind, Message: msg}})
	panic(obj)
}

// newError is `new ctor(msg)` in vm's realm.
func newError(vm *goja.Runtime, ctor, msg string) *goja.Object {
	obj, err := vm.New(vm.Get(ctor), vm.ToValue(msg))
	if err != nil {
		panic(vm.NewGoError(fmt.Errorf("%s", msg)))
	}
	return obj
}

// throwType throws a TypeError for a bad argument.
func (inv *Invocation) throwType(format string, args ...any) {
	inv.fail(ErrBadArgument, "TypeError", format, args...)
}

// throwError throws an Error refusing the call for reason kind.
func (inv *Invocation) throwError(kind ErrorKind, format string, args ...any) {
	inv.fail(kind, "Error", format, args...)
}

// str is v when it is a string primitive. Like host, it never exports an
// object: goja's Export of an object copies it whole (a ten-million-element
// array passed where a string is expected would cost gigabytes).
func str(v goja.Value) (string, bool) {
	if v != nil && goja.IsString(v) {
		return v.String(), true
	}
	return "", false
}

// host is the Go value behind v when v is a host object of type T (a URL,
// a URLSearchParams…), found by its export type without exporting others.
func host[T any](v goja.Value) (T, bool) {
	var zero T
	o, ok := v.(*goja.Object)
	if !ok || o.ExportType() != reflect.TypeFor[T]() {
		return zero, false
	}
	t, ok := o.Export().(T)
	return t, ok
}

// get is o[k], undefined where goja has no value (a Proxy whose ownKeys
// lists a key its get cannot produce).
func get(o *goja.Object, k string) goja.Value {
	if v := o.Get(k); v != nil {
		return v
	}
	return goja.Undefined()
}

// stringArg returns argument i, which must be a string.
func (inv *Invocation) stringArg(call goja.FunctionCall, i int, fn, param string) string {
	v := call.Argument(i)
	s, ok := str(v)
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

// typeOf names a value's JS type for error messages, as typeof would
// (arrays and null named as such); never a Go type.
func typeOf(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	case goja.IsBigInt(v):
		return "bigint"
	case goja.IsString(v):
		return "string"
	case goja.IsNumber(v):
		return "number"
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
	if _, ok := v.(*goja.Symbol); ok {
		return "symbol"
	}
	if _, ok := v.Export().(bool); ok {
		return "boolean"
	}
	return "value"
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

// maxListedKeys bounds the own keys a binding lists of a typed array or
// String object it was given. Those have one own key per element (16 Mi
// for a 16 MiB buffer), which goja lists as strings in one native call
// the run's interrupt cannot stop: console.log(new Uint8Array(16 << 20))
// took over 1 GB and seconds past the wall time.
const maxListedKeys = 1 << 16

var (
	proxyExport = reflect.TypeOf(goja.Proxy{})
)

// indexedLength is how many index keys o has when it is a typed array or
// a String object (seen through proxies), found without listing them; 0
// for other objects (their keys are properties the heap budget paid for).
func indexedLength(o *goja.Object) int64 {
	for range 300 { // proxies nest at most 256 deep (internal/runtime)
		t := o.ExportType()
		switch {
		case t == proxyExport:
			p, _ := o.Export().(goja.Proxy) // a Proxy exports as itself, no copy
			if p.Target() == nil {
				return 0
			}
			o = p.Target()
			continue
		case o.ClassName() == "String":
			return get(o, "length").ToInteger()
		case o.ClassName() == "Object" && t != nil && t.Kind() == reflect.Slice && t != mapExport && t != setExport:
			return get(o, "length").ToInteger() // a typed array (its Go export is a slice)
		}
		return 0
	}
	return 0
}

// listKeys is o.Keys(), refused (throwType) for a typed array or String
// object longer than maxListedKeys; what names o in the error.
func (inv *Invocation) listKeys(o *goja.Object, what string) []string {
	if n := indexedLength(o); n > maxListedKeys {
		inv.throwType("%s has %d elements, more than the %d allowed here", what, n, maxListedKeys)
	}
	return o.Keys()
}
