package runtime

import (
	"math"
	"strings"

	"github.com/dop251/goja"
)

// Text a single native call parses, rewrites or collates in time or
// memory far beyond its size: each call is bounded by its input before it
// starts. Unbounded, BigInt("9".repeat(4<<20)) runs 87 s under a 1 s
// wall time (math/big's decimal parse is quadratic), parseFloat over
// 16 Mi digits 5 s (goja matches a regexp over the whole text), and
// normalize() of 16 Mi combining characters grows to 324 MB. Arguments are
// converted once and the converted values passed on (a valueOf or
// toString could otherwise answer differently the second time); the
// argument slice is copied, never written in place.
const (
	// maxNumberText bounds the numeric text BigInt and parseInt/
	// parseFloat parse: 64 Ki characters, ~30 ms for BigInt's quadratic
	// decimal parse, far beyond any real number.
	maxNumberText = 64 << 10
	// maxNormalize bounds a non-ASCII string normalize() or a case
	// mapping rewrites (~20 bytes of Go memory and ~0.5 µs per unit):
	// 1 Mi units.
	maxNormalize = 1 << 20
	// maxCollate bounds the two strings localeCompare collates when
	// either is not ASCII (~3 µs a unit): 64 Ki units together.
	maxCollate = 64 << 10
)

// installTextGuards replaces BigInt, parseInt, parseFloat (also as
// Number.parseInt/parseFloat), and String.prototype's normalize, case
// mappings and localeCompare.
func (g *guards) installTextGuards() {
	vm := g.vm
	global := vm.GlobalObject()
	obj := func(v goja.Value) *goja.Object { return v.ToObject(vm) }
	num := obj(vm.Get("Number"))
	for _, name := range []string{"parseInt", "parseFloat"} {
		w := g.replace(global, name, g.parseNumber(name == "parseInt"))
		if err := num.DefineDataProperty(name, w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			panic(err)
		}
	}
	sp := obj(obj(vm.Get("String")).Get("prototype"))
	g.replace(sp, "normalize", g.unicodeText("normalized string length"))
	for _, name := range []string{"toUpperCase", "toLowerCase", "toLocaleUpperCase", "toLocaleLowerCase"} {
		g.replace(sp, name, g.unicodeText("case-mapped string length"))
	}
	g.replace(sp, "localeCompare", g.localeCompare)

	// BigInt: its text, and the value asUintN/asIntN convert. The wrapper
	// takes the original's place everywhere (prototype.constructor too).
	bi, ok := vm.Get("BigInt").(*goja.Object)
	if !ok {
		return
	}
	for _, name := range []string{"asUintN", "asIntN"} {
		g.replace(bi, name, func(orig native) native {
			return func(c goja.FunctionCall) goja.Value {
				if len(c.Arguments) > 1 {
					c.Arguments = append([]goja.Value(nil), c.Arguments...)
					c.Arguments[1] = g.bigIntText(c.Arguments[1])
				}
				return orig(c)
			}
		})
	}
	orig, ok := bi.Export().(native)
	if !ok {
		panic("BigInt is not a native builtin")
	}
	// Counted like every builtin (native.go), and registered as wrapped so
	// that setup.js's walk keeps this one, its properties included.
	w := g.named(g.counted(func(c goja.FunctionCall) goja.Value {
		if len(c.Arguments) > 0 {
			c.Arguments = append([]goja.Value(nil), c.Arguments...)
			c.Arguments[0] = g.bigIntText(c.Arguments[0])
		}
		return orig(c)
	}), "BigInt", 1).(*goja.Object)
	g.wrapped[bi], g.wrapped[w] = w, w
	for _, k := range []string{"asUintN", "asIntN"} {
		if err := w.DefineDataProperty(k, bi.Get(k), goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			panic(err)
		}
	}
	if err := w.DefineDataProperty("prototype", bi.Get("prototype"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE); err != nil {
		panic(err)
	}
	if p, ok := bi.Get("prototype").(*goja.Object); ok {
		if err := p.DefineDataProperty("constructor", w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			panic(err)
		}
	}
	if err := global.DefineDataProperty("BigInt", w, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		panic(err)
	}
}

// bigIntText is v converted to a primitive once (hint number, as BigInt
// does), refused when it is a string holding too long a number.
func (g *guards) bigIntText(v goja.Value) goja.Value {
	if o, ok := v.(*goja.Object); ok {
		v = g.toPrimitiveNumber(o)
	}
	if s, ok := v.(goja.String); ok {
		if n := trimmedLen(s); n > maxNumberText {
			g.over("BigInt text length", float64(n), maxNumberText)
		}
	}
	return v
}

// parseNumber guards parseInt and parseFloat: the text (and parseInt's
// radix) are converted once, and only the numeric run (after leading
// white space, the characters either could read: digits of the radix,
// signs, 0x, points, exponents, Infinity) is passed on, refused when
// longer than maxNumberText.
func (g *guards) parseNumber(isInt bool) func(native) native {
	return func(orig native) native {
		return g.parseNumberCall(orig, isInt)
	}
}

func (g *guards) parseNumberCall(orig native, isInt bool) native {
	return func(c goja.FunctionCall) goja.Value {
		args := append([]goja.Value(nil), c.Arguments...)
		if len(args) == 0 {
			return orig(c)
		}
		s, ok := args[0].ToString().(goja.String)
		if !ok {
			return orig(c)
		}
		args[0] = s
		radix := -1 // parseFloat
		if isInt {
			radix = 0
			if len(args) > 1 {
				args[1] = args[1].ToNumber() // converted once
				radix = toInt32(args[1].ToFloat())
			}
		}
		if s.Length() > maxNumberText {
			n := s.Length()
			i := 0
			for i < n && isJSSpace(s.CharAt(i)) {
				i++
			}
			j := i
			for j < n && j-i <= maxNumberText && numberChar(s.CharAt(j), radix) {
				j++
			}
			if j-i > maxNumberText {
				g.over("number text length", float64(j-i), maxNumberText)
			}
			args[0] = s.Substring(i, j)
		}
		return orig(goja.FunctionCall{This: c.This, Arguments: args})
	}
}

// unicodeText guards normalize and the case mappings: goja rewrites a
// non-ASCII string through Go text, at about 20 bytes and 0.3–0.5 µs a
// unit; a long one is refused (ASCII is fast and not refused).
func (g *guards) unicodeText(what string) func(native) native {
	return func(orig native) native {
		return func(c goja.FunctionCall) goja.Value {
			if goja.IsUndefined(c.This) || goja.IsNull(c.This) {
				return orig(c) // its TypeError
			}
			s, ok := c.This.ToString().(goja.String)
			if !ok {
				return orig(c)
			}
			if s.Length() > maxNormalize && !isASCII(s) {
				g.over(what, float64(s.Length()), maxNormalize)
			}
			c.This = s // converted once
			return orig(c)
		}
	}
}

// localeCompare collates non-ASCII text at several µs a unit (1 Mi
// units: seconds): both strings together are bounded when either is not
// ASCII.
func (g *guards) localeCompare(orig native) native {
	return func(c goja.FunctionCall) goja.Value {
		if goja.IsUndefined(c.This) || goja.IsNull(c.This) {
			return orig(c)
		}
		s, ok1 := c.This.ToString().(goja.String)
		that, ok2 := c.Argument(0).ToString().(goja.String)
		if !ok1 || !ok2 {
			return orig(c)
		}
		if n := s.Length() + that.Length(); n > maxCollate && (!isASCII(s) || !isASCII(that)) {
			g.over("compared string length", float64(n), maxCollate)
		}
		args := append([]goja.Value{that}, c.Arguments[min(1, len(c.Arguments)):]...)
		return orig(goja.FunctionCall{This: s, Arguments: args})
	}
}

func isASCII(s goja.String) bool {
	for i := range s.Length() {
		if s.CharAt(i) >= 0x80 {
			return false
		}
	}
	return true
}

// toPrimitiveNumber is ToPrimitive(o, number): Symbol.toPrimitive, else
// valueOf, then toString.
func (g *guards) toPrimitiveNumber(o *goja.Object) goja.Value {
	call := func(f goja.Value, args ...goja.Value) (goja.Value, bool) {
		fn, ok := goja.AssertFunction(f)
		if !ok {
			return nil, false
		}
		r, err := fn(o, args...)
		if err != nil {
			panic(err)
		}
		return r, true
	}
	if ex := o.GetSymbol(goja.SymToPrimitive); ex != nil && !goja.IsUndefined(ex) && !goja.IsNull(ex) {
		r, ok := call(ex, g.vm.ToValue("number"))
		if !ok {
			panic(g.vm.NewTypeError("Symbol.toPrimitive is not a function"))
		}
		if _, isObj := r.(*goja.Object); isObj {
			panic(g.vm.NewTypeError("Cannot convert object to primitive value"))
		}
		return r
	}
	for _, m := range []string{"valueOf", "toString"} {
		if r, ok := call(o.Get(m)); ok {
			if _, isObj := r.(*goja.Object); !isObj {
				return r
			}
		}
	}
	panic(g.vm.NewTypeError("Cannot convert object to primitive value"))
}

// trimmedLen is the length of s without the white space at its ends.
func trimmedLen(s goja.String) int {
	i, j := 0, s.Length()
	for i < j && isJSSpace(s.CharAt(i)) {
		i++
	}
	for j > i && isJSSpace(s.CharAt(j-1)) {
		j--
	}
	return j - i
}

// isJSSpace: WhiteSpace and LineTerminator (what StringToNumber trims).
func isJSSpace(c uint16) bool {
	switch c {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return c >= 0x2000 && c <= 0x200a
}

// numberChar reports whether parseInt (radix ≥ 0; 0 reads as 16, a
// superset) or parseFloat (radix -1) could read c.
func numberChar(c uint16, radix int) bool {
	if c == '+' || c == '-' {
		return true
	}
	if radix < 0 {
		return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || strings.ContainsRune("Infinity", rune(c))
	}
	if radix == 0 || radix < 2 || radix > 36 {
		radix = 36 // 0: 10 or 16; out of range: NaN anyway
	}
	if c == 'x' || c == 'X' {
		return true
	}
	d := 99
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'z':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		d = int(c-'A') + 10
	}
	return d < radix
}

func toInt32(f float64) int {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return int(int32(uint32(int64(math.Mod(math.Trunc(f), 1<<32)))))
}
