package runtime

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Allocation guards. goja's builtins run natively: one call such as
// new Array(1e9).fill(0) or "x".repeat(2**30) can run for minutes or
// allocate gigabytes before vm.Interrupt is seen. Each guarded builtin is
// replaced, before the freeze, by a Go function that checks the sizes
// involved and then calls the original directly (no JS frame, no argument
// copy): the check costs one property read, where a JS wrapper with rest
// arguments and Reflect.apply taxed every array call user code and
// libraries make. Constructors (ArrayBuffer, typed arrays) are guarded in
// setup.js. See LIMITS.md.

type native = func(goja.FunctionCall) goja.Value

type guards struct {
	vm               *goja.Runtime
	maxS, maxA, maxB int64
	rangeError       goja.Value
	iterSym          *goja.Symbol
	// replacer is the counting JSON.stringify replacer; jsonCounts is
	// its state per nested stringify call (toJSON may stringify again).
	replacer   goja.Value
	jsonCounts []*jsonCount
	// symbols are the distinct symbols Symbol.for returned on this
	// runtime: its registry is the one thing a run can leave behind in a
	// frozen runtime (about 100 bytes a key), so a runtime whose registry
	// passes maxRegistrySymbols is retired after the run.
	symbols map[*goja.Symbol]struct{}
}

// maxRegistrySymbols bounds a pooled runtime's Symbol.for registry (~1 MB).
const maxRegistrySymbols = 10000

// registryFull reports whether the runtime's Symbol.for registry is over
// its bound.
func (g *guards) registryFull() bool { return len(g.symbols) > maxRegistrySymbols }

type jsonCount struct {
	size int64
	gap  int64
	user goja.Callable
}

func installGuards(vm *goja.Runtime, l Limits) (g *guards, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("install guards: %v", r)
		}
	}()
	g = &guards{vm: vm, maxS: int64(l.MaxStringLength), maxA: int64(l.MaxArrayLength), maxB: int64(l.MaxBufferBytes),
		rangeError: vm.Get("RangeError"), iterSym: goja.SymIterator, symbols: map[*goja.Symbol]struct{}{}}
	obj := func(v goja.Value) *goja.Object { return v.ToObject(vm) }

	// Arrays: every Array.prototype method iterates `length` natively
	// (holes included), so a sparse `new Array(1e9)` would run for minutes.
	ap := obj(obj(vm.Get("Array")).Get("prototype"))
	wrapped := map[*goja.Object]goja.Value{} // values and [Symbol.iterator] stay one function
	for _, k := range ap.GetOwnPropertyNames() {
		switch k {
		case "constructor", "length":
		case "join":
			g.replace(ap, k, func(orig native) native {
				return func(c goja.FunctionCall) goja.Value {
					g.joinSize(c.This, c.Argument(0))
					return g.postString(orig(c), "joined string length")
				}
			})
		case "toString":
			g.replace(ap, k, func(orig native) native {
				return func(c goja.FunctionCall) goja.Value {
					g.joinSize(c.This, goja.Undefined())
					return g.postString(orig(c), "joined string length")
				}
			})
		case "concat":
			g.replace(ap, k, func(orig native) native {
				return func(c goja.FunctionCall) goja.Value {
					g.arrayLike(c.This.ToObject(vm), "array")
					for _, a := range c.Arguments {
						g.arrayLike(a, "array")
					}
					return orig(c)
				}
			})
		default:
			if o, ok := ap.Get(k).(*goja.Object); ok {
				wrapped[o] = g.replace(ap, k, g.thisLength)
			}
		}
	}
	if o, ok := ap.GetSymbol(g.iterSym).(*goja.Object); ok {
		w, ok := wrapped[o]
		if !ok {
			w = g.wrap(o, "[Symbol.iterator]", g.thisLength)
		}
		if err := ap.DefineDataPropertySymbol(g.iterSym, w, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return nil, err
		}
	}
	g.replace(obj(vm.Get("Array")), "from", g.fromArrayLike(false))
	args := func(i int) func(native) native {
		return func(orig native) native {
			return func(c goja.FunctionCall) goja.Value {
				g.arrayLike(c.Argument(i), "argument list")
				return orig(c)
			}
		}
	}
	g.replace(obj(obj(vm.Get("Function")).Get("prototype")), "apply", args(1))
	reflect := obj(vm.Get("Reflect"))
	g.replace(reflect, "apply", args(2))
	g.replace(reflect, "construct", args(1))

	// Strings.
	sp := obj(obj(vm.Get("String")).Get("prototype"))
	g.replace(sp, "repeat", func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			n := float64(strLen(c.This)) * numOr0(c.Argument(0))
			if n > float64(g.maxS) {
				g.over("string length", n, g.maxS)
			}
			return orig(c)
		}
	})
	pad := func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			if n := c.Argument(0).ToFloat(); n > float64(g.maxS) {
				g.over("string length", n, g.maxS)
			}
			return orig(c)
		}
	}
	g.replace(sp, "padStart", pad)
	g.replace(sp, "padEnd", pad)
	g.replace(sp, "concat", func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			n := strLen(c.This)
			for _, a := range c.Arguments {
				if s, ok := a.(goja.String); ok {
					n += int64(s.Length())
				}
			}
			if n > g.maxS {
				g.over("string length", float64(n), g.maxS)
			}
			return g.postString(orig(c), "string length")
		}
	})
	g.replace(sp, "replace", g.replaceCheck(false))
	g.replace(sp, "replaceAll", g.replaceCheck(true))

	// JSON.stringify counts the output size as the values go by (aliases of
	// one big string count every time), through a composed replacer.
	g.replacer = g.named(g.countValue, "", 2)
	g.replace(obj(vm.Get("JSON")), "stringify", g.stringify)

	// Typed arrays.
	ta := obj(vm.Get("Uint8Array")).Prototype() // %TypedArray%
	g.replace(ta, "from", g.fromArrayLike(true))
	g.replace(ta, "of", func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			if n := int64(len(c.Arguments)); n > g.maxA {
				g.over("argument list length", float64(n), g.maxA)
			}
			return orig(c)
		}
	})
	tap := obj(ta.Get("prototype"))
	taJoin := func(sepArg int) func(native) native {
		return func(orig native) native {
			return func(c goja.FunctionCall) goja.Value {
				sep := int64(1)
				if sepArg >= 0 && !goja.IsUndefined(c.Argument(sepArg)) {
					sep = strLen(c.Argument(sepArg))
				}
				if n := g.length(c.This) * float64(sep+24); n > float64(g.maxS) {
					g.over("joined string length", n, g.maxS)
				}
				return orig(c)
			}
		}
	}
	g.replace(tap, "join", taJoin(0))
	g.replace(tap, "toString", taJoin(-1))

	// Symbol.for: count the registry (see guards.symbols).
	g.replace(obj(vm.Get("Symbol")), "for", func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			r := orig(c)
			if sym, ok := r.(*goja.Symbol); ok && len(g.symbols) <= maxRegistrySymbols {
				g.symbols[sym] = struct{}{}
			}
			return r
		}
	})
	return g, nil
}

// replace swaps o[key] (a native builtin) for guard(original), keeping
// its name, length and attributes. It returns the new function.
func (g *guards) replace(o *goja.Object, key string, guard func(native) native) goja.Value {
	fo, ok := o.Get(key).(*goja.Object)
	if !ok {
		return nil
	}
	w := g.wrap(fo, key, guard)
	if err := o.DefineDataProperty(key, w, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		panic(err)
	}
	return w
}

func (g *guards) wrap(fo *goja.Object, name string, guard func(native) native) goja.Value {
	orig, ok := fo.Export().(native)
	if !ok {
		panic(fmt.Sprintf("%s is not a native builtin", name))
	}
	return g.named(guard(orig), fo.Get("name").String(), fo.Get("length").ToInteger())
}

// named makes a native function with a JS name and length (not the Go
// function's name, which would show host paths).
func (g *guards) named(fn native, name string, length int64) goja.Value {
	f := g.vm.ToValue(fn).(*goja.Object)
	_ = f.DefineDataProperty("name", g.vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = f.DefineDataProperty("length", g.vm.ToValue(length), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return f
}

func (g *guards) over(what string, n float64, max int64) {
	e, err := g.vm.New(g.rangeError, g.vm.ToValue(fmt.Sprintf("memory limit exceeded: %s of %s exceeds the limit of %d",
		what, g.vm.ToValue(n).String(), max)))
	if err != nil {
		panic(err)
	}
	panic(e)
}

// length is ToLength(ToObject(v).length) without the clamp; 0 for
// undefined and null.
func (g *guards) length(v goja.Value) float64 {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	n := v.ToObject(g.vm).Get("length")
	if n == nil {
		return 0
	}
	f := n.ToFloat()
	if !(f > 0) {
		return 0
	}
	return f
}

// arrayLike refuses objects whose length is over the array limit.
func (g *guards) arrayLike(v goja.Value, what string) {
	if _, ok := v.(*goja.Object); !ok {
		return
	}
	if n := g.length(v); n > float64(g.maxA) {
		g.over(what+" length", n, g.maxA)
	}
}

func (g *guards) thisLength(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		if n := g.length(c.This); n > float64(g.maxA) {
			g.over("array length", n, g.maxA)
		}
		return orig(c)
	}
}

// joinSize bounds a join before it runs: the result may alias one big
// string many times. Only string elements are counted (see LIMITS.md).
func (g *guards) joinSize(this, sepArg goja.Value) {
	o := this.ToObject(g.vm)
	n := g.length(o)
	if n > float64(g.maxA) {
		g.over("array length", n, g.maxA)
	}
	sep := int64(1)
	if !goja.IsUndefined(sepArg) {
		sep = strLen(sepArg)
	}
	size := int64(0)
	if n > 0 {
		size = (int64(n) - 1) * sep
	}
	for i := int64(0); i < int64(n) && size <= g.maxS; i++ {
		if s, ok := o.Get(itoa(i)).(goja.String); ok {
			size += int64(s.Length())
		}
	}
	if size > g.maxS {
		g.over("joined string length", float64(size), g.maxS)
	}
}

func (g *guards) postString(r goja.Value, what string) goja.Value {
	if s, ok := r.(goja.String); ok && int64(s.Length()) > g.maxS {
		g.over(what, float64(s.Length()), g.maxS)
	}
	return r
}

// fromArrayLike guards Array.from and %TypedArray%.from: an array-like
// without an iterator is walked natively up to its length.
func (g *guards) fromArrayLike(typed bool) func(native) native {
	return func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			src := c.Argument(0)
			if !goja.IsUndefined(src) && !goja.IsNull(src) {
				o := src.ToObject(g.vm)
				if it := o.GetSymbol(g.iterSym); it == nil || goja.IsUndefined(it) {
					g.arrayLike(o, "array-like")
				} else if typed && o.ClassName() == "Array" {
					g.arrayLike(o, "array")
				}
			}
			return orig(c)
		}
	}
}

// replaceCheck bounds replace/replaceAll with a string replacement: the
// result is at most len(s) + matches*expansion; refuse when that bound is
// over the limit. A function replacement is JS, so interruptible.
func (g *guards) replaceCheck(all bool) func(native) native {
	return func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			pat, rep := c.Argument(0), c.Argument(1)
			if _, fn := goja.AssertFunction(rep); !fn {
				g.replaceSize(c.This, pat, rep, all)
			}
			return g.postString(orig(c), "replaced string length")
		}
	}
}

func (g *guards) replaceSize(this, pat, rep goja.Value, all bool) {
	s := this.String()
	sLen := strLen(this)
	r := rep.String()
	per := strLen(rep)
	if strings.IndexByte(r, '$') >= 0 {
		per = per * (sLen + 1)
	}
	if sLen+(sLen+1)*per <= g.maxS {
		return
	}
	matches := int64(1)
	global := all
	if po, ok := pat.(*goja.Object); ok && strings.Contains(po.Get("flags").String(), "g") {
		global = true
	}
	if global {
		if _, isObj := pat.(*goja.Object); !isObj && goja.IsString(pat) {
			if p := pat.String(); p == "" {
				matches = sLen + 1
			} else {
				matches = int64(strings.Count(s, p))
			}
		} else {
			matches = sLen + 1 // a global regexp: assume the worst
		}
	}
	if n := sLen + matches*per; n > g.maxS {
		g.over("replaced string length", float64(n), g.maxS)
	}
}

func (g *guards) stringify(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		value, replacer, space := c.Argument(0), c.Argument(1), c.Argument(2)
		if ro, ok := replacer.(*goja.Object); ok && ro.ClassName() == "Array" {
			return g.postString(orig(c), "JSON string length")
		}
		jc := &jsonCount{}
		switch {
		case goja.IsNumber(space):
			jc.gap = int64(math.Max(0, math.Min(10, space.ToFloat())))
		case goja.IsString(space):
			jc.gap = min(10, strLen(space))
		}
		jc.user, _ = goja.AssertFunction(replacer)
		g.jsonCounts = append(g.jsonCounts, jc)
		defer func() { g.jsonCounts = g.jsonCounts[:len(g.jsonCounts)-1] }()
		return g.postString(orig(goja.FunctionCall{This: c.This, Arguments: []goja.Value{value, g.replacer, space}}), "JSON string length")
	}
}

// countValue is the replacer every guarded JSON.stringify passes: it runs
// the caller's replacer, then adds the value's size.
func (g *guards) countValue(c goja.FunctionCall) goja.Value {
	jc := g.jsonCounts[len(g.jsonCounts)-1]
	key, v := c.Argument(0), c.Argument(1)
	if jc.user != nil {
		r, err := jc.user(c.This, key, v)
		if err != nil {
			panic(err)
		}
		v = r
	}
	jc.size += strLen(key) + 4 + jc.gap*2
	switch {
	case goja.IsString(v):
		jc.size += strLen(v)
	case goja.IsNumber(v) || goja.IsBigInt(v):
		jc.size += 24
	}
	if jc.size > g.maxS {
		g.over("JSON string length", float64(jc.size), g.maxS)
	}
	return v
}

// strLen is the UTF-16 length of ToString(v).
func strLen(v goja.Value) int64 {
	if s, ok := v.(goja.String); ok {
		return int64(s.Length())
	}
	if s, ok := v.ToString().(goja.String); ok {
		return int64(s.Length())
	}
	return int64(len(v.String()))
}

func numOr0(v goja.Value) float64 {
	f := v.ToFloat()
	if math.IsNaN(f) {
		return 0
	}
	return f
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
