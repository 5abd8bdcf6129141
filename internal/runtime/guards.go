package runtime

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
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
	vm                    *goja.Runtime
	slot                  *slot
	maxS, maxA, maxB      int64
	rangeError, typeError goja.Value
	iterSym               *goja.Symbol
	ready                 bool // setup.js ran: the runtime is guarded

	// Per run (begin, end): builtins nested on the Go stack, the guard
	// errors thrown and their kinds, bound functions' nesting.
	depth, maxDepth int
	thrown          map[*goja.Object]workflow.ErrorKind
	bound           map[*goja.Object]int
	proxies         map[*goja.Object]int // nesting depth of the proxies made this run
	proxyCtor       goja.Value           // the original Proxy, behind setup.js's wrapper
	chain           map[*goja.Object]int // prototype chain lengths of objects Object.create made
	// wrapped maps each builtin and its wrapper to the wrapper.
	wrapped map[*goja.Object]goja.Value
	// replacer is the counting JSON.stringify replacer; jsonCounts is
	// its state per nested stringify call (toJSON may stringify again).
	replacer   goja.Value
	jsonCounts []*jsonCount
	// symbols are the distinct symbols Symbol.for returned on this
	// runtime: its registry is the one thing a run can leave behind in a
	// frozen runtime (about 100 bytes a key), so a runtime whose registry
	// passes maxRegistrySymbols is retired after the run.
	symbols map[*goja.Symbol]struct{}

	// The run's memory watch and the string bytes its guarded builtins
	// made since the last synchronous check (grew).
	gov   *Governor
	watch *watch
	made  int64
}

// checkStep is how many bytes of strings a run makes between two
// synchronous memory checks.
const checkStep = 4 << 20

// grew counts n bytes of strings a guarded builtin makes; every
// checkStep the memory budget is checked on this goroutine, so a run
// keeping what it makes is stopped after the same amount of work however
// loaded the machine is (the sampler alone raced the wall time).
func (g *guards) grew(n int64) {
	g.made += n
	if g.made < checkStep {
		return
	}
	g.made = 0
	if g.gov.check(g.watch) {
		g.ended()
	}
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
	// holders are the objects being serialised, outermost first: their
	// number is the nesting depth (goja recurses per level and checks
	// cycles against all of them, so deep values cost quadratic time).
	holders []*goja.Object
	// keys is an array replacer's property list, applied here so that
	// the counting replacer still sees every value.
	keys []string
}

func installGuards(s *slot, l Limits) (g *guards, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("install guards: %v", r)
		}
	}()
	vm := s.vm
	g = &guards{vm: vm, slot: s, maxS: int64(l.MaxStringLength), maxA: int64(l.MaxArrayLength), maxB: int64(l.MaxBufferBytes),
		rangeError: vm.Get("RangeError"), typeError: vm.Get("TypeError"), iterSym: goja.SymIterator,
		symbols: map[*goja.Symbol]struct{}{}, maxDepth: l.MaxCallStackSize,
		thrown: map[*goja.Object]workflow.ErrorKind{}, bound: map[*goja.Object]int{}, proxies: map[*goja.Object]int{}, chain: map[*goja.Object]int{}, wrapped: map[*goja.Object]goja.Value{}}
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
			g.replace(ap, k, g.concat)
		case "flat":
			g.replace(ap, k, g.flat)
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
			if n > 0 {
				g.grew(int64(n))
			}
			return orig(c)
		}
	})
	pad := func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			n := c.Argument(0).ToFloat()
			if n > float64(g.maxS) {
				g.over("string length", n, g.maxS)
			}
			if n > 0 {
				g.grew(int64(n))
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
	g.replace(sp, "split", g.split)
	if o, ok := sp.GetSymbol(g.iterSym).(*goja.Object); ok {
		w := g.wrap(o, "[Symbol.iterator]", g.stringIterator)
		if err := sp.DefineDataPropertySymbol(g.iterSym, w, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return nil, err
		}
	}
	global := vm.GlobalObject()
	for _, name := range []string{"encodeURI", "encodeURIComponent", "escape"} {
		g.replace(global, name, g.encodeURI)
	}

	// Structure: bound functions, prototypes, proxies (native.go).
	g.replace(obj(obj(vm.Get("Function")).Get("prototype")), "bind", g.bind)
	objectCtor := obj(vm.Get("Object"))
	setProto := func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			g.protoOK(c.Argument(0), c.Argument(1))
			return orig(c)
		}
	}
	// One value per character, made natively (Object.keys of a 16 M
	// character string would run seconds past the wall time and gigabytes
	// past the budget): a string source counts as an array of its length.
	for _, name := range []string{"keys", "values", "entries", "getOwnPropertyNames", "getOwnPropertyDescriptors", "assign"} {
		g.replace(objectCtor, name, g.stringSources(name == "assign"))
	}
	g.replace(reflect, "ownKeys", g.stringSources(false))
	g.replace(obj(vm.Get("String")), "raw", func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			if o, ok := c.Argument(0).(*goja.Object); ok {
				g.arrayLike(o.Get("raw"), "String.raw strings")
			}
			return orig(c)
		}
	})
	g.replace(objectCtor, "setPrototypeOf", setProto)
	g.replace(reflect, "setPrototypeOf", setProto)
	g.replace(objectCtor, "create", g.create)
	g.proxyCtor = vm.Get("Proxy")
	g.replace(obj(vm.Get("Proxy")), "revocable", func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			d := g.checkProxy(c)
			r := orig(c)
			if ro, ok := r.(*goja.Object); ok {
				if p, ok := ro.Get("proxy").(*goja.Object); ok {
					g.proxies[p] = d
				}
			}
			return r
		}
	})
	// BigInt.asUintN(2**40, -1n) allocates 2**40 bits in one call (a
	// fatal out-of-memory): the width is bounded like a buffer.
	if bi, ok := vm.Get("BigInt").(*goja.Object); ok {
		width := func(orig native) native {
			return func(c goja.FunctionCall) goja.Value {
				if n := c.Argument(0).ToFloat(); n > float64(g.maxB*8) {
					g.over("BigInt width in bits", n, g.maxB*8)
				}
				return orig(c)
			}
		}
		g.replace(bi, "asUintN", width)
		g.replace(bi, "asIntN", width)
	}
	g.replace(obj(vm.Get("JSON")), "parse", g.jsonParse)
	g.replace(global, "eval", g.eval)
	// Object spread and rest sources (spread.go); the name cannot be
	// written in source, and the property can be neither changed nor removed.
	if err := global.DefineDataProperty(spreadGuardName, g.named(g.spreadSource, "", 1), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE); err != nil {
		panic(err)
	}

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
	g.installTextGuards() // numbers.go
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
	g.throw(workflow.KindMemory, g.rangeError, fmt.Sprintf("memory limit exceeded: %s of %s exceeds the limit of %d",
		what, g.vm.ToValue(n).String(), max))
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

// stringSources bounds builtins that make one value per character of a
// string argument: the first argument, or (Object.assign) every source.
func (g *guards) stringSources(fromSecond bool) func(native) native {
	return func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			args := c.Arguments
			if fromSecond && len(args) > 0 {
				args = args[1:]
			} else if len(args) > 1 {
				args = args[:1]
			}
			for _, a := range args {
				isString := false
				if _, ok := a.(goja.String); ok {
					isString = true
				} else if o, ok := a.(*goja.Object); ok && o.ClassName() == "String" {
					isString = true
				}
				if isString {
					if n := strLen(a); n > int64(g.maxA) {
						g.over("string as array", float64(n), g.maxA)
					}
				}
			}
			return orig(c)
		}
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
	if s, ok := r.(goja.String); ok {
		if int64(s.Length()) > g.maxS {
			g.over(what, float64(s.Length()), g.maxS)
		}
		g.grew(int64(s.Length()))
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
		jc := &jsonCount{}
		// The indent, converted once (a Number or String object's
		// conversion could answer differently the second time).
		if so, ok := space.(*goja.Object); ok {
			switch so.ClassName() {
			case "Number":
				space = so.ToNumber()
			case "String":
				space = so.ToString()
			}
		}
		switch {
		case goja.IsNumber(space):
			jc.gap = int64(math.Max(0, math.Min(10, space.ToFloat())))
		case goja.IsString(space):
			jc.gap = min(10, strLen(space))
		}
		if ro, ok := replacer.(*goja.Object); ok && g.isArray(ro) {
			jc.keys = g.propertyList(ro)
		} else {
			jc.user, _ = goja.AssertFunction(replacer)
		}
		g.jsonCounts = append(g.jsonCounts, jc)
		defer func() { g.jsonCounts = g.jsonCounts[:len(g.jsonCounts)-1] }()
		return g.postString(orig(goja.FunctionCall{This: c.This, Arguments: []goja.Value{value, g.replacer, space}}), "JSON string length")
	}
}

// propertyList is an array replacer's list of keys (strings, numbers and
// their wrapper objects, first occurrence kept).
func (g *guards) propertyList(ro *goja.Object) []string {
	n := g.length(ro)
	if n > float64(g.maxA) {
		g.over("array length", n, g.maxA)
	}
	seen := map[string]bool{}
	keys := []string{}
	for i := int64(0); i < int64(n); i++ {
		v := ro.Get(itoa(i))
		if o, ok := v.(*goja.Object); ok && (o.ClassName() == "String" || o.ClassName() == "Number") {
			v = o.ToString()
		}
		if !goja.IsString(v) && !goja.IsNumber(v) {
			continue
		}
		k := v.String()
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// countValue is the replacer every guarded JSON.stringify passes: it runs
// the caller's replacer (or applies its property list), then adds the
// value's size and follows the nesting depth.
func (g *guards) countValue(c goja.FunctionCall) goja.Value {
	if g.slot.why.Load() != nil {
		g.ended() // a DAG can make stringify run on natively
	}
	jc := g.jsonCounts[len(g.jsonCounts)-1]
	key, v := c.Argument(0), c.Argument(1)
	if jc.user != nil {
		r, err := jc.user(c.This, key, v)
		if err != nil {
			panic(err)
		}
		v = r
	}
	// The holder is the object being serialised: pop what is finished.
	holder, _ := c.This.(*goja.Object)
	for len(jc.holders) > 0 && jc.holders[len(jc.holders)-1] != holder {
		jc.holders = jc.holders[:len(jc.holders)-1]
	}
	depth := int64(len(jc.holders))
	jc.size += strLen(key) + 4 + jc.gap*(depth+1)
	switch {
	case goja.IsString(v):
		jc.size += strLen(v)
	case goja.IsNumber(v) || goja.IsBigInt(v):
		jc.size += 24
	}
	if jc.size > g.maxS {
		g.over("JSON string length", float64(jc.size), g.maxS)
	}
	if o, ok := v.(*goja.Object); ok {
		if _, fn := goja.AssertFunction(o); !fn {
			if len(jc.holders) >= maxNesting {
				g.depthError("JSON.stringify's value", maxNesting)
			}
			if jc.keys != nil && !g.isArray(o) {
				o = g.pick(o, jc.keys)
				v = o
			}
			jc.holders = append(jc.holders, o)
		}
	}
	return v
}

// pick is o with only keys, in that order (an array replacer's effect);
// each is read once, as JSON.stringify would.
func (g *guards) pick(o *goja.Object, keys []string) *goja.Object {
	r := g.vm.NewObject()
	for _, k := range keys {
		if v := o.Get(k); v != nil {
			_ = r.Set(k, v)
		}
	}
	return r
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
