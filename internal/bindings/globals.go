package bindings

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/whatwgurl"
)

// urlRealm is one runtime's URL machinery. It is immutable after
// InstallGlobals, so the frozen globals keep no per-invocation state.
type urlRealm struct {
	vm        *goja.Runtime
	spProto   *goja.Object
	urlProto  *goja.Object
	iterProto *goja.Object
}

// spIter is a URLSearchParams iterator (keys, values or entries).
type spIter struct {
	sp   *searchParams
	kind int // 0 keys, 1 values, 2 entries
	i    int
}

// InstallGlobals defines the invocation-independent globals URL and
// URLSearchParams (Node-compatible, WHATWG parsing) on vm. Called once
// per runtime, before the runtime freezes its globals.
func InstallGlobals(vm *goja.Runtime) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("install URL globals: %v", r)
		}
	}()
	r := &urlRealm{vm: vm}
	iterBase, err := vm.RunString(`Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))`)
	if err != nil {
		return fmt.Errorf("install URL globals: %w", err)
	}
	r.iterProto = vm.NewObject()
	r.iterProto.SetPrototype(iterBase.ToObject(vm))
	r.method(r.iterProto, "next", r.iterNext)
	r.iterProto.DefineDataPropertySymbol(goja.SymToStringTag, vm.ToValue("URLSearchParams Iterator"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	// Not reachable from the global object, so the runtime's deep freeze
	// would miss it: freeze it here, and its next method (shared by every
	// iterator of every run: an end user's data stored on it was read by
	// the next run), so no run can change them for the next.
	freeze, _ := goja.AssertFunction(vm.Get("Object").ToObject(vm).Get("freeze"))
	for _, o := range []goja.Value{r.iterProto.Get("next"), r.iterProto} {
		if _, err := freeze(goja.Undefined(), o); err != nil {
			return fmt.Errorf("install URL globals: %w", err)
		}
	}

	spCtor := r.searchParamsClass()
	urlCtor := r.urlClass()
	for name, v := range map[string]*goja.Object{"URLSearchParams": spCtor, "URL": urlCtor} {
		if err := vm.GlobalObject().DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			return fmt.Errorf("install %s: %w", name, err)
		}
	}
	return nil
}

// class makes a constructor whose prototype is proto.
func (r *urlRealm) class(name string, ctor func(goja.ConstructorCall) *goja.Object, proto *goja.Object) *goja.Object {
	f := r.vm.ToValue(ctor).(*goja.Object)
	f.DefineDataProperty("name", r.vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	f.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	proto.DefineDataProperty("constructor", f, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	proto.DefineDataPropertySymbol(goja.SymToStringTag, r.vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	return f
}

// fn makes a native function with a JS name (not the Go one, which
// would show host paths).
func (r *urlRealm) fn(name string, fn func(goja.FunctionCall) goja.Value) *goja.Object {
	f, err := hostFunc(r.vm, name, fn)
	if err != nil {
		panic(err)
	}
	return f
}

func (r *urlRealm) method(o *goja.Object, name string, fn func(goja.FunctionCall) goja.Value) {
	o.DefineDataProperty(name, r.fn(name, fn), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
}

// accessor defines a getter "get name" and, when set is not nil, a setter "set name".
func (r *urlRealm) accessor(o *goja.Object, name string, get func(goja.FunctionCall) goja.Value, set func(goja.FunctionCall) goja.Value) {
	var s goja.Value
	if set != nil {
		s = r.fn("set "+name, set)
	}
	o.DefineAccessorProperty(name, r.fn("get "+name, get), s, goja.FLAG_TRUE, goja.FLAG_TRUE)
}

func (r *urlRealm) throwType(code, msg string) {
	e := newError(r.vm, "TypeError", msg)
	e.Set("code", code)
	panic(e)
}

// URL and form text bounds. Parsing and serialising run in one native
// call that the run's interrupt cannot stop: a 16 Mi character URL was
// percent-encoded into hundreds of MB, and a form string of 16 Mi
// characters parsed into millions of pairs (1 GB, seconds past the wall
// time) before the memory budget could act. Real URLs and forms are a few
// KiB (browsers stop URLs at 2 MB).
const (
	maxURLText   = 1 << 20 // UTF-16 units of one string a URL parses
	maxFormBytes = 4 << 20 // names and values of one URLSearchParams
	maxFormPairs = 1 << 16 // pairs of one URLSearchParams
)

// text is v as a string, refused past maxURLText before it is converted.
func (r *urlRealm) text(v goja.Value, what string) string {
	s := v.ToString()
	if gs, ok := s.(goja.String); ok && gs.Length() > maxURLText {
		r.tooLarge(fmt.Sprintf("%s is %d characters long, more than the %d allowed", what, gs.Length(), maxURLText))
	}
	return s.String()
}

func (r *urlRealm) tooLarge(msg string) {
	e := newError(r.vm, "RangeError", msg)
	e.Set("code", "ERR_OUT_OF_RANGE")
	panic(e)
}

// checkForm refuses a URLSearchParams list past the form bounds.
func (r *urlRealm) checkForm(list []whatwgurl.Pair) {
	if len(list) > maxFormPairs {
		r.tooLarge(fmt.Sprintf("URLSearchParams has %d pairs, more than the %d allowed", len(list), maxFormPairs))
	}
	n := 0
	for _, p := range list {
		if n += len(p.Name) + len(p.Value) + 2; n > maxFormBytes {
			r.tooLarge(fmt.Sprintf("URLSearchParams holds more names and values than the %d bytes allowed", maxFormBytes))
		}
	}
}

// ---- URLSearchParams ----

func (r *urlRealm) thisSP(call goja.FunctionCall) *searchParams {
	if sp, ok := host[*searchParams](call.This); ok {
		return sp
	}
	r.throwType("ERR_INVALID_THIS", `Value of "this" must be of type URLSearchParams`)
	return nil
}

func (r *urlRealm) wrapSP(sp *searchParams, proto *goja.Object) *goja.Object {
	o := r.vm.ToValue(sp).(*goja.Object)
	o.SetPrototype(proto)
	return o
}

// argsAtLeast throws Node's ERR_MISSING_ARGS when arguments are missing.
func (r *urlRealm) argsAtLeast(call goja.FunctionCall, n int, names string) {
	if len(call.Arguments) < n {
		r.throwType("ERR_MISSING_ARGS", "The "+names+" must be specified")
	}
}

func (r *urlRealm) searchParamsClass() *goja.Object {
	vm := r.vm
	p := vm.NewObject()
	r.spProto = p
	r.method(p, "append", func(call goja.FunctionCall) goja.Value {
		sp := r.thisSP(call)
		r.argsAtLeast(call, 2, `"name" and "value" arguments`)
		name, value := r.text(call.Argument(0), "the name"), r.text(call.Argument(1), "the value")
		r.checkForm(append(sp.list[:len(sp.list):len(sp.list)], whatwgurl.Pair{Name: name, Value: value}))
		sp.append(name, value)
		return goja.Undefined()
	})
	r.method(p, "delete", func(call goja.FunctionCall) goja.Value {
		sp := r.thisSP(call)
		r.argsAtLeast(call, 1, `"name" argument`)
		sp.delete(call.Argument(0).String(), optString(call.Argument(1)))
		return goja.Undefined()
	})
	r.method(p, "get", func(call goja.FunctionCall) goja.Value {
		sp := r.thisSP(call)
		r.argsAtLeast(call, 1, `"name" argument`)
		if v, ok := sp.get(call.Argument(0).String()); ok {
			return vm.ToValue(v)
		}
		return goja.Null()
	})
	r.method(p, "getAll", func(call goja.FunctionCall) goja.Value {
		sp := r.thisSP(call)
		r.argsAtLeast(call, 1, `"name" argument`)
		vals := sp.getAll(call.Argument(0).String())
		items := make([]any, len(vals))
		for i, v := range vals {
			items[i] = v
		}
		return vm.NewArray(items...)
	})
	r.method(p, "has", func(call goja.FunctionCall) goja.Value {
		sp := r.thisSP(call)
		r.argsAtLeast(call, 1, `"name" argument`)
		return vm.ToValue(sp.has(call.Argument(0).String(), optString(call.Argument(1))))
	})
	r.method(p, "set", func(call goja.FunctionCall) goja.Value {
		sp := r.thisSP(call)
		r.argsAtLeast(call, 2, `"name" and "value" arguments`)
		name, value := r.text(call.Argument(0), "the name"), r.text(call.Argument(1), "the value")
		r.checkForm(append(sp.list[:len(sp.list):len(sp.list)], whatwgurl.Pair{Name: name, Value: value}))
		sp.set(name, value)
		return goja.Undefined()
	})
	r.method(p, "sort", func(call goja.FunctionCall) goja.Value {
		r.thisSP(call).sort()
		return goja.Undefined()
	})
	r.method(p, "toString", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(r.thisSP(call).encode())
	})
	r.method(p, "forEach", func(call goja.FunctionCall) goja.Value {
		sp := r.thisSP(call)
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			r.throwType("ERR_INVALID_ARG_TYPE", `The "callback" argument must be of type function`)
		}
		for i := 0; i < len(sp.list); i++ { // the list may change while we walk it, as in Node
			pr := sp.list[i]
			if _, err := fn(call.Argument(1), vm.ToValue(pr.Value), vm.ToValue(pr.Name), call.This); err != nil {
				panic(err)
			}
		}
		return goja.Undefined()
	})
	iter := func(kind int) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			it := vm.ToValue(&spIter{sp: r.thisSP(call), kind: kind}).(*goja.Object)
			it.SetPrototype(r.iterProto)
			return it
		}
	}
	r.method(p, "keys", iter(0))
	r.method(p, "values", iter(1))
	entries := r.fn("entries", iter(2))
	p.DefineDataProperty("entries", entries, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	p.DefineDataPropertySymbol(goja.SymIterator, entries, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	r.accessor(p, "size", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(len(r.thisSP(call).list))
	}, nil)

	return r.class("URLSearchParams", func(call goja.ConstructorCall) *goja.Object {
		sp := &searchParams{list: r.initPairs(call.Argument(0))}
		r.checkForm(sp.list)
		return r.wrapSP(sp, call.This.Prototype())
	}, p)
}

// initPairs reads the URLSearchParams constructor argument: a string
// (leading "?" ignored), another URLSearchParams, an iterable of
// [name, value] pairs, or a record of own enumerable properties.
func (r *urlRealm) initPairs(v goja.Value) []whatwgurl.Pair {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		if goja.IsNull(v) {
			return whatwgurl.ParseForm("null")
		}
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return whatwgurl.ParseForm(strings.TrimPrefix(r.text(v, "the URLSearchParams text"), "?"))
	}
	if sp, ok := host[*searchParams](o); ok {
		return append([]whatwgurl.Pair(nil), sp.list...)
	}
	if it := o.GetSymbol(goja.SymIterator); it != nil && !goja.IsUndefined(it) && !goja.IsNull(it) {
		var out []whatwgurl.Pair
		size := 0
		r.vm.ForOf(o, func(item goja.Value) bool {
			io, ok := item.(*goja.Object)
			if !ok {
				r.throwType("ERR_INVALID_TUPLE", "Each query pair must be an iterable [name, value] tuple")
			}
			var vals []string
			r.vm.ForOf(io, func(x goja.Value) bool {
				vals = append(vals, r.text(x, "a name or value"))
				return len(vals) <= 2
			})
			if len(vals) != 2 {
				r.throwType("ERR_INVALID_TUPLE", "Each query pair must be an iterable [name, value] tuple")
			}
			out = append(out, whatwgurl.Pair{Name: vals[0], Value: vals[1]})
			size += len(vals[0]) + len(vals[1]) + 2
			if size > maxFormBytes || len(out) > maxFormPairs {
				r.checkForm(out)
			}
			return true
		})
		return out
	}
	var out []whatwgurl.Pair
	size := 0
	if n := indexedLength(o); n > maxFormPairs {
		r.tooLarge(fmt.Sprintf("URLSearchParams would have %d pairs, more than the %d allowed", n, maxFormPairs))
	}
	for _, k := range o.Keys() {
		out = append(out, whatwgurl.Pair{Name: k, Value: r.text(get(o, k), "a value")})
		if size += len(k) + len(out[len(out)-1].Value) + 2; size > maxFormBytes || len(out) > maxFormPairs {
			r.checkForm(out)
		}
	}
	return out
}

func (r *urlRealm) iterNext(call goja.FunctionCall) goja.Value {
	it, ok := host[*spIter](call.This)
	if !ok {
		r.throwType("ERR_INVALID_THIS", `Value of "this" must be of type URLSearchParamsIterator`)
	}
	res := r.vm.NewObject()
	if it.i >= len(it.sp.list) {
		res.Set("value", goja.Undefined())
		res.Set("done", true)
		return res
	}
	pr := it.sp.list[it.i]
	it.i++
	switch it.kind {
	case 0:
		res.Set("value", pr.Name)
	case 1:
		res.Set("value", pr.Value)
	default:
		res.Set("value", r.vm.NewArray(pr.Name, pr.Value))
	}
	res.Set("done", false)
	return res
}

func optString(v goja.Value) *string {
	if goja.IsUndefined(v) {
		return nil
	}
	s := v.String()
	return &s
}

// ---- URL ----

func (r *urlRealm) thisURL(call goja.FunctionCall) *urlObject {
	if u, ok := hostURL(call.This); ok {
		return u
	}
	r.throwType("ERR_INVALID_THIS", `Value of "this" must be of type URL`)
	return nil
}

func (r *urlRealm) invalidURL(input string) {
	e := r.vm.NewTypeError("Invalid URL")
	e.Set("code", "ERR_INVALID_URL")
	e.Set("input", input)
	panic(e)
}

// parseArgs parses URL(input, base) as the constructor and canParse do.
func (r *urlRealm) parseArgs(input, base goja.Value) (*urlObject, error) {
	var b *whatwgurl.URL
	if !goja.IsUndefined(base) {
		var err error
		if b, err = r.parse(r.text(base, "the base URL"), nil); err != nil {
			return nil, err
		}
	}
	u, err := r.parse(r.text(input, "the URL"), b)
	if err != nil {
		return nil, err
	}
	return &urlObject{URL: u}, nil
}

// parse is whatwgurl.Parse with a URL past its shape bounds refused as
// too large (a RangeError, as for text past maxURLText).
func (r *urlRealm) parse(input string, base *whatwgurl.URL) (*whatwgurl.URL, error) {
	u, err := whatwgurl.Parse(input, base)
	if errors.Is(err, whatwgurl.ErrTooComplex) {
		r.tooLarge(err.Error())
	}
	return u, err
}

func (r *urlRealm) urlClass() *goja.Object {
	vm := r.vm
	p := vm.NewObject()
	r.urlProto = p
	str := func(get func(u *urlObject) string) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value { return vm.ToValue(get(r.thisURL(call))) }
	}
	set := func(apply func(u *urlObject, v string)) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			u := r.thisURL(call)
			apply(u, r.text(call.Argument(0), "the value"))
			if u.sp != nil {
				q := u.Query()
				u.sp.list = whatwgurl.ParseForm(q)
			}
			return goja.Undefined()
		}
	}
	r.accessor(p, "href", str((*urlObject).Href), set(func(u *urlObject, v string) {
		n, err := r.parse(v, nil)
		if err != nil {
			r.invalidURL(v)
		}
		u.URL = n
	}))
	r.accessor(p, "origin", str((*urlObject).Origin), nil)
	r.accessor(p, "protocol", str((*urlObject).Protocol), set((*urlObject).SetProtocol))
	r.accessor(p, "username", str((*urlObject).Username), set((*urlObject).SetUsername))
	r.accessor(p, "password", str((*urlObject).Password), set((*urlObject).SetPassword))
	r.accessor(p, "host", str((*urlObject).Host), set((*urlObject).SetHost))
	r.accessor(p, "hostname", str((*urlObject).Hostname), set((*urlObject).SetHostname))
	r.accessor(p, "port", str((*urlObject).Port), set((*urlObject).SetPort))
	r.accessor(p, "pathname", str((*urlObject).Pathname), set((*urlObject).SetPathname))
	r.accessor(p, "search", str((*urlObject).Search), set((*urlObject).SetSearch))
	r.accessor(p, "hash", str((*urlObject).Hash), set((*urlObject).SetHash))
	r.accessor(p, "searchParams", func(call goja.FunctionCall) goja.Value {
		u := r.thisURL(call)
		if u.spObj == nil {
			q := u.Query()
			u.sp = &searchParams{list: whatwgurl.ParseForm(q), url: u}
			u.spObj = r.wrapSP(u.sp, r.spProto)
		}
		return u.spObj
	}, nil)
	r.method(p, "toString", str((*urlObject).Href))
	r.method(p, "toJSON", str((*urlObject).Href))

	ctor := r.class("URL", func(call goja.ConstructorCall) *goja.Object {
		u, err := r.parseArgs(call.Argument(0), call.Argument(1))
		if err != nil {
			r.invalidURL(call.Argument(0).String())
		}
		o := vm.ToValue(&urlJS{u}).(*goja.Object)
		o.SetPrototype(call.This.Prototype())
		return o
	}, p)
	r.method(ctor, "canParse", func(call goja.FunctionCall) goja.Value {
		_, err := r.parseArgs(call.Argument(0), call.Argument(1))
		return vm.ToValue(err == nil)
	})
	return ctor
}
