package runtime

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Native recursion and native loops. goja runs its builtins in Go: a
// builtin that converts a value (ToString, ToPrimitive, toJSON,
// toISOString, a getter, a proxy trap) calls whatever method the value
// has, and when that method is itself a builtin no goja frame is pushed,
// so `e.toString = Error.prototype.toString; e.name = e; String(e)`
// recurses in Go until the goroutine's stack overflows — a fatal error no
// recover sees. Likewise a builtin loop calling a builtin
// (arr.map(Function.prototype.call, String.prototype.repeat)) never
// reaches an instruction boundary, where vm.Interrupt lands.
//
// So every builtin function of the intrinsics (not constructors) is
// wrapped, before the freeze, by a Go function that counts the builtins
// active on the Go stack (refusing past MaxCallStackSize, like JS frames)
// and refuses to start once the run is over. The wrappers replace the
// originals everywhere user code can reach them, so the originals only
// run through them.

// wrapNative is setup.js's L.wrap(fn): fn's guarded replacement, the same
// one for the same fn (so identities such as Array.prototype.values ===
// Array.prototype[Symbol.iterator] hold); fn itself when it is not a
// builtin or is a constructor.
func (g *guards) wrapNative(c goja.FunctionCall) goja.Value {
	fo, ok := c.Argument(0).(*goja.Object)
	if !ok {
		return c.Argument(0)
	}
	if g.wrapped == nil {
		return fo // after setup: nothing more is wrapped
	}
	if w, ok := g.wrapped[fo]; ok {
		return w
	}
	orig, ok := fo.Export().(native)
	if !ok {
		return fo
	}
	if _, ctor := goja.AssertConstructor(fo); ctor {
		return fo
	}
	w := g.named(g.counted(orig), fo.Get("name").String(), fo.Get("length").ToInteger())
	g.wrapped[fo] = w
	g.wrapped[w.(*goja.Object)] = w
	return w
}

// counted is orig behind the depth count and the end-of-run check.
func (g *guards) counted(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		// goja passes nil for some undefined arguments (Array.from's map
		// function): the guards expect values.
		if c.This == nil {
			c.This = goja.Undefined()
		}
		for i, a := range c.Arguments {
			if a == nil {
				args := make([]goja.Value, len(c.Arguments))
				copy(args, c.Arguments)
				for j := i; j < len(args); j++ {
					if args[j] == nil {
						args[j] = goja.Undefined()
					}
				}
				c.Arguments = args
				break
			}
		}
		g.enter()
		defer g.leave()
		return orig(c)
	}
}

func (g *guards) enter() {
	if g.slot.why.Load() != nil {
		g.ended()
	}
	if g.depth >= g.maxDepth {
		g.throw(workflow.KindCallDepth, g.rangeError, fmt.Sprintf(
			"Maximum call stack size exceeded: more than %d builtin calls nested in one another", g.maxDepth))
	}
	g.depth++
}

func (g *guards) leave() { g.depth-- }

// ended stops a native loop after the run's limit fired: the interrupt
// is pending on the runtime, so the exception cannot be caught for long.
func (g *guards) ended() {
	why := g.slot.stopped()
	g.throw(KindOf(why), g.rangeError, why.Error())
}

// begin and end bracket a run: the per-run state starts empty and nothing
// of it outlives the run.
func (g *guards) begin() {
	g.depth = 0
}

func (g *guards) end() {
	g.depth = 0
	g.gov, g.watch, g.made = nil, nil, 0
	clear(g.thrown)
	clear(g.proxies)
	clear(g.bound)
	clear(g.chain)
}

// maxThrown bounds the guard errors remembered per run (a loop catching
// them must not grow the map).
const maxThrown = 64

// throw throws a new ctor(msg) and remembers its kind, so that if it ends
// the run the Result says why without reading the message.
func (g *guards) throw(kind workflow.ErrorKind, ctor goja.Value, msg string) {
	e, err := g.vm.New(ctor, g.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	if len(g.thrown) >= maxThrown {
		clear(g.thrown) // the latest ones matter: they may end the run
	}
	g.thrown[e] = kind
	panic(e)
}

// kindOf is the kind of a value a guard threw.
func (g *guards) kindOf(v goja.Value) (workflow.ErrorKind, bool) {
	o, ok := v.(*goja.Object)
	if !ok {
		return "", false
	}
	k, ok := g.thrown[o]
	return k, ok
}

func (g *guards) depthError(what string, max int) {
	g.throw(workflow.KindCallDepth, g.rangeError, fmt.Sprintf(
		"Maximum call stack size exceeded: %s nests deeper than %d", what, max))
}

// Structure: proxies, prototypes, bound functions. Each can chain
// without limit, and goja follows a chain by Go recursion: a get on a
// proxy of a proxy of … recurses once per proxy; a prototype cycle made
// through a proxy (the proxy's prototype is its target's) never ends.

// proxyParts returns a proxy's target and handler.
func proxyParts(o *goja.Object) (target, handler *goja.Object, ok bool) {
	if o.ExportType() != proxyType {
		return nil, nil, false
	}
	p, ok := o.Export().(goja.Proxy)
	if !ok {
		return nil, nil, false
	}
	return p.Target(), p.Handler(), true
}

// maxProxyDepth bounds how far code follows a chain of proxies (their
// targets) when it looks for a cycle or an array.
const maxProxyDepth = 64

// maxProxyWeight bounds a proxy's weight: 1 + its target's + its
// handler's. goja forwards an operation to the target and looks traps up
// on the handler, each by Go recursion, so a proxy whose target and
// handler are both proxies of proxies costs work exponential in the
// depth (`p = new Proxy(p, p)` sixty times never returned); the weight
// counts that tree. Real code weighs a few.
const maxProxyWeight = 256

// proxyWeight is the weight remembered for a proxy made during the run (0
// for anything else).
func (g *guards) proxyWeight(v goja.Value) int {
	if o, ok := v.(*goja.Object); ok {
		return g.proxies[o]
	}
	return 0
}

// makeProxy is setup.js's L.makeProxy(target, handler): the original
// Proxy constructor behind the weight check.
func (g *guards) makeProxy(c goja.FunctionCall) goja.Value {
	w := g.checkProxy(c)
	p, err := g.vm.New(g.proxyCtor, c.Argument(0), c.Argument(1))
	if err != nil {
		panic(err)
	}
	g.proxies[p] = w
	return p
}

// checkProxy refuses a proxy heavier than maxProxyWeight and returns its
// weight.
func (g *guards) checkProxy(c goja.FunctionCall) int {
	w := 1 + g.proxyWeight(c.Argument(0)) + g.proxyWeight(c.Argument(1))
	if w > maxProxyWeight {
		g.depthError("a proxy of proxies (counting targets and handlers)", maxProxyWeight)
	}
	return w
}

// maxProtoChain bounds prototype chains made with Object.create,
// Object.setPrototypeOf, Reflect.setPrototypeOf and __proto__; goja looks
// a missing property up the chain by Go recursion.
const maxProtoChain = 1000

// checkProto is setup.js's L.checkProto(obj, proto): it throws a
// TypeError when making proto obj's prototype would close a cycle (engines
// refuse ordinary cycles; the spec lets a proxy hide one, and goja then
// loops or recurses forever), and a RangeError when the chain would be
// longer than maxProtoChain.
func (g *guards) checkProto(c goja.FunctionCall) goja.Value {
	g.protoOK(c.Argument(0), c.Argument(1))
	return goja.Undefined()
}

// protoLen is the length of the prototype chain from proto (bounded by
// maxProtoChain), using the lengths remembered for objects made by the
// guarded Object.create.
func (g *guards) protoLen(proto *goja.Object) int {
	n := 0
	for cur := proto; cur != nil && n <= maxProtoChain; n++ {
		if l, ok := g.chain[cur]; ok {
			return n + l
		}
		if t, _, ok := proxyParts(cur); ok {
			cur = t
			continue
		}
		cur = cur.Prototype()
	}
	return n
}

// create is Object.create with the chain length bounded (a new object
// cannot close a cycle).
func (g *guards) create(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		proto, _ := c.Argument(0).(*goja.Object)
		l := 0
		if proto != nil {
			l = g.protoLen(proto)
			if l >= maxProtoChain {
				g.depthError("the prototype chain", maxProtoChain)
			}
		}
		r := orig(c)
		if o, ok := r.(*goja.Object); ok && l > 0 && len(g.chain) < 1<<16 {
			g.chain[o] = l + 1
		}
		return r
	}
}

func (g *guards) protoOK(objV, protoV goja.Value) {
	proto, ok := protoV.(*goja.Object)
	if !ok {
		return
	}
	obj, _ := objV.(*goja.Object)
	// obj and every target behind it, if it is a proxy.
	var self []*goja.Object
	for o := obj; o != nil && len(self) <= maxProxyDepth; {
		self = append(self, o)
		t, _, ok := proxyParts(o)
		if !ok {
			break
		}
		o = t
	}
	n := 0
	for cur := proto; cur != nil; n++ {
		for _, s := range self {
			if cur == s {
				g.throw(workflow.KindThrown, g.typeError, "Cyclic __proto__ value")
			}
		}
		if n > maxProtoChain {
			g.depthError("the prototype chain", maxProtoChain)
		}
		if t, _, ok := proxyParts(cur); ok {
			// A proxy's prototype is its target's (unless a trap, which
			// is JS and so bounded, says otherwise).
			cur = t
			continue
		}
		cur = cur.Prototype()
	}
}

// maxBindDepth bounds bound functions of bound functions: calling one
// recurses in Go once per level.
const maxBindDepth = 64

func (g *guards) bind(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		d := 0
		if t, ok := c.This.(*goja.Object); ok {
			d = g.bound[t]
		}
		if d >= maxBindDepth {
			g.depthError("a bound function of a bound function", maxBindDepth)
		}
		r := orig(c)
		// Every bound function is remembered (a cap would let a chain go
		// unrecorded); the map lives for the run and is in the heap budget.
		if o, ok := r.(*goja.Object); ok {
			g.bound[o] = d + 1
		}
		return r
	}
}

// Text that is parsed: JSON.parse, eval, new Function. goja's parsers
// recurse once per nesting level.

// maxNesting bounds the nesting of parsed text ([, {, ( levels).
const maxNesting = 1000

// maxOperatorRun bounds the operators of one statement in dynamic code.
const maxOperatorRun = 2000

// maxDynamicSource bounds the source of eval and new Function: without a
// full parse, nesting through operators (-- - - 1, a=a=a…, 1+1+1…) is
// only bounded by the length.
const maxDynamicSource = 64 << 10

// scanJSON refuses JSON text nested deeper than maxNesting or holding
// more values than the array limit (each costs far more than its text).
func (g *guards) scanJSON(s string) {
	depth, values := 0, 1
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if in {
			switch c {
			case '\\':
				i++
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case '[', '{':
			depth++
			if depth > maxNesting {
				g.depthError("JSON text", maxNesting)
			}
		case ']', '}':
			depth--
		case ',':
			values++
			if int64(values) > g.maxA {
				g.over("JSON value count", float64(values), g.maxA)
			}
		}
	}
}

func (g *guards) jsonParse(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		text := c.Argument(0).ToString() // once: a toString could change
		g.scanJSON(text.String())
		return orig(goja.FunctionCall{This: c.This, Arguments: []goja.Value{text, c.Argument(1)}})
	}
}

// checkSource is setup.js's L.checkSource(text) for eval and the
// Function constructors.
func (g *guards) checkSource(c goja.FunctionCall) goja.Value {
	s := c.Argument(0).String()
	if len(s) > maxDynamicSource {
		g.throw(workflow.KindMemory, g.rangeError, fmt.Sprintf(
			"memory limit exceeded: dynamic code (eval, new Function) of %d bytes exceeds the limit of %d", len(s), maxDynamicSource))
	}
	depth, run := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if quote != 0 {
			switch ch {
			case '\\':
				i++
			case quote:
				quote = 0
			}
			continue
		}
		switch ch {
		case '"', '\'', '`':
			quote = ch
		case '.':
			// Dynamic code is compiled by goja directly, without the
			// load-time rewrite that bounds object spread and rest
			// (spread.go): the syntax is refused here instead.
			if strings.HasPrefix(s[i:], "...") {
				g.throw(workflow.KindMemory, g.rangeError,
					"memory limit exceeded: spread and rest syntax (...) is not allowed in dynamic code (eval, new Function): its copy is not bounded there")
			}
		case '(', '[', '{':
			depth++
			if depth > maxNesting/4 {
				g.depthError("dynamic code (eval, new Function)", maxNesting/4)
			}
		case ')', ']', '}':
			depth--
		}
		// goja parses and compiles a chain of operators (1+1+…, a=a=…,
		// x=>x=>…, f()()…) by recursion, in time quadratic in its length:
		// bound the operators between statement boundaries.
		switch ch {
		case ';', '{', '}':
			run = 0
		case '+', '-', '*', '/', '%', '&', '|', '^', '<', '>', '=', '!', '~', '?', '.', '(', '[':
			run++
			if run > maxOperatorRun {
				g.depthError("an expression in dynamic code (eval, new Function)", maxOperatorRun)
			}
		}
	}
	return goja.Undefined()
}

// toIndex is setup.js's L.toIndex(v): ToIndex once, so a length's
// valueOf or string form cannot say one thing to the guard and another to
// the constructor.
func (g *guards) toIndex(c goja.FunctionCall) goja.Value {
	v := c.Argument(0)
	if goja.IsUndefined(v) {
		return g.vm.ToValue(0)
	}
	f := v.ToNumber().ToFloat()
	if math.IsNaN(f) {
		return g.vm.ToValue(0)
	}
	return g.vm.ToValue(math.Trunc(f))
}

// Allocation in one native call.

// flatSize bounds a.flat(depth): the elements it would produce, walked
// without building them, and the nesting it would follow.
func (g *guards) flat(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		o := c.This.ToObject(g.vm)
		depth := 1.0
		if d := c.Argument(0); !goja.IsUndefined(d) {
			depth = d.ToFloat()
			if math.IsNaN(depth) {
				depth = 0
			}
		}
		count := int64(0)
		g.flatCount(o, depth, 0, &count)
		return orig(goja.FunctionCall{This: o, Arguments: []goja.Value{g.vm.ToValue(depth)}})
	}
}

func (g *guards) flatCount(o *goja.Object, depth float64, level int, count *int64) {
	if level > maxNesting {
		g.depthError("flat", maxNesting)
	}
	n := g.length(o)
	if n > float64(g.maxA) {
		g.over("array length", n, g.maxA)
	}
	if depth < 1 {
		*count += int64(n)
		if *count > g.maxA {
			g.over("flattened array length", float64(*count), g.maxA)
		}
		return
	}
	for i := int64(0); i < int64(n); i++ {
		*count++
		if *count > g.maxA {
			g.over("flattened array length", float64(*count), g.maxA)
		}
		if e, ok := o.Get(itoa(i)).(*goja.Object); ok && g.isArray(e) {
			*count--
			g.flatCount(e, depth-1, level+1, count)
		}
	}
}

func (g *guards) isArray(o *goja.Object) bool {
	for i := 0; i <= maxProxyDepth; i++ {
		t, _, ok := proxyParts(o)
		if !ok {
			return o.ClassName() == "Array"
		}
		if t == nil {
			return false
		}
		o = t
	}
	return false
}

// concat bounds the total length of a concatenation, not each part.
func (g *guards) concat(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		total := g.length(c.This.ToObject(g.vm))
		if total > float64(g.maxA) {
			g.over("array length", total, g.maxA)
		}
		for _, a := range c.Arguments {
			if o, ok := a.(*goja.Object); ok {
				total += g.length(o)
			} else {
				total++
			}
			if total > float64(g.maxA) {
				g.over("array length", total, g.maxA) // the concatenation's
			}
		}
		return orig(c)
	}
}

// stringIterator refuses to iterate strings longer than the array limit:
// [...s] and Array.from(s) build one string per character natively.
func (g *guards) stringIterator(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		if n := strLen(c.This); n > g.maxA {
			g.over("iterated string length", float64(n), g.maxA)
		}
		return orig(c)
	}
}

// split bounds the parts a split can make.
func (g *guards) split(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		if goja.IsUndefined(c.This) || goja.IsNull(c.This) {
			return orig(c)
		}
		s := c.This.ToString()
		n := strLen(s)
		if n <= g.maxA {
			return orig(goja.FunctionCall{This: s, Arguments: c.Arguments})
		}
		if lim := c.Argument(1); !goja.IsUndefined(lim) {
			if l := lim.ToFloat(); l >= 0 && l <= float64(g.maxA) {
				return orig(goja.FunctionCall{This: s, Arguments: c.Arguments})
			}
		}
		parts := n + 1 // an empty separator or a regexp: assume the worst
		if sep := c.Argument(0); goja.IsString(sep) {
			if p := sep.String(); p != "" {
				parts = int64(strings.Count(s.String(), p)) + 1
			}
		}
		if parts > g.maxA {
			g.over("split array length", float64(parts), g.maxA)
		}
		return orig(goja.FunctionCall{This: s, Arguments: c.Arguments})
	}
}

// encodeURI bounds encodeURI, encodeURIComponent and escape: each
// character may become up to 9 (or 6) characters.
func (g *guards) encodeURI(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		s := c.Argument(0).ToString()
		if n := strLen(s); n*9 > g.maxS {
			// Counted over the UTF-16 units as they are: converting a
			// 16 Mi unit string to Go text first cost hundreds of MB.
			gs, _ := s.(goja.String)
			size := int64(0)
			for i := 0; gs != nil && i < gs.Length() && size <= g.maxS; i++ {
				switch u := gs.CharAt(i); {
				case u < 0x80:
					size += 3
				case u < 0x800:
					size += 6
				case u >= 0xd800 && u <= 0xdfff:
					size += 6 // half of a 4-byte character
				default:
					size += 9
				}
			}
			if size > g.maxS {
				g.over("encoded string length", float64(size), g.maxS)
			}
		}
		return orig(goja.FunctionCall{This: c.This, Arguments: []goja.Value{s}})
	}
}

var proxyType = reflect.TypeOf(goja.Proxy{})

// guardProtoSetter is setup.js's L.guardProtoSetter(set): the
// Object.prototype.__proto__ setter behind the cycle check.
func (g *guards) guardProtoSetter(c goja.FunctionCall) goja.Value {
	fo, ok := c.Argument(0).(*goja.Object)
	if !ok {
		return c.Argument(0)
	}
	orig, ok := fo.Export().(native)
	if !ok {
		return fo
	}
	return g.named(func(c goja.FunctionCall) goja.Value {
		g.protoOK(c.This, c.Argument(0))
		return orig(c)
	}, "set __proto__", 1)
}

// eval checks the text it is given. Replacing eval makes every call an
// indirect eval (global scope): the bundle is strict code, where a direct
// eval could only read, never declare, local names.
func (g *guards) eval(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		if x := c.Argument(0); goja.IsString(x) {
			g.checkSource(goja.FunctionCall{Arguments: []goja.Value{x}})
		}
		return orig(c)
	}
}

// maxPatternNesting bounds group nesting in a pattern given to the RegExp
// constructor: regexp2's parser took minutes, natively, on 200,000 nested
// lookaheads.
const maxPatternNesting = 100

// checkPattern is setup.js's L.checkPattern(source): a RegExp
// constructor's pattern, converted once by the caller.
func (g *guards) checkPattern(c goja.FunctionCall) goja.Value {
	s := c.Argument(0).String()
	if len(s) > maxDynamicSource {
		g.throw(workflow.KindMemory, g.rangeError, fmt.Sprintf(
			"memory limit exceeded: a regular expression of %d bytes exceeds the limit of %d", len(s), maxDynamicSource))
	}
	depth := 0
	class := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\':
			i++
		case class:
			class = ch != ']'
		case ch == '[':
			class = true
		case ch == '(':
			depth++
			if depth > maxPatternNesting {
				g.depthError("a regular expression's groups", maxPatternNesting)
			}
		case ch == ')':
			depth--
		}
	}
	return goja.Undefined()
}
