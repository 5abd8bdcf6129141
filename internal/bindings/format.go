package bindings

import (
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// maxLine bounds one formatted console line before redaction and caps,
// so formatting a huge object stops early instead of building it whole.
const maxLine = 16 << 10

// inspect limits, like Node's util.inspect defaults.
const (
	inspectDepth = 2
	inspectItems = 100
)

// format renders console arguments like Node's util.format: a leading
// string may hold %s %d %i %f %j %o %O %c %% placeholders; the remaining
// arguments follow separated by spaces, strings raw and everything else
// through a single-line util.inspect.
func (inv *Invocation) format(args []goja.Value) string {
	var b strings.Builder
	rest := args
	if len(args) > 0 {
		if s := args[0]; goja.IsString(s) && strings.IndexByte(s.String(), '%') >= 0 && len(args) > 1 {
			rest = inv.formatPlaceholders(&b, s.String(), args[1:])
		} else {
			rest = args
		}
	}
	for i, a := range rest {
		if b.Len() > maxLine {
			break
		}
		if i > 0 || b.Len() > 0 {
			b.WriteByte(' ')
		}
		if goja.IsString(a) {
			b.WriteString(inv.capped(&b, a.String()))
			continue
		}
		inv.inspect(&b, a, 0, nil)
	}
	return b.String() // log redacts, then cuts to maxLine
}

// capped is s shortened so that b stays within maxLine plus the longest
// secret: enough for redaction to see a secret that crosses maxLine
// whole, without copying a huge string into the line.
func (inv *Invocation) capped(b *strings.Builder, s string) string {
	room := maxLine + inv.secretSlack() - b.Len()
	if room < 0 {
		room = 0
	}
	return cutUTF8(s, room)
}

// formatPlaceholders writes f with its placeholders filled and returns
// the arguments left over.
func (inv *Invocation) formatPlaceholders(b *strings.Builder, f string, args []goja.Value) []goja.Value {
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			b.WriteByte(c)
			continue
		}
		verb := f[i+1]
		if verb == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if !strings.ContainsRune("sdifjoOc", rune(verb)) || len(args) == 0 {
			b.WriteByte(c)
			continue
		}
		a := args[0]
		args = args[1:]
		i++
		switch verb {
		case 's':
			if _, ok := a.(*goja.Object); ok {
				inv.inspect(b, a, inspectDepth, nil) // Node shows only one level for %s
			} else {
				b.WriteString(inv.capped(b, jsString(a)))
			}
		case 'd', 'i', 'f':
			if goja.IsBigInt(a) && verb != 'f' {
				b.WriteString(jsString(a))
				break
			}
			n := math.NaN()
			if _, ok := a.(*goja.Object); !ok {
				n = a.ToFloat()
			}
			if verb == 'i' && !math.IsNaN(n) && !math.IsInf(n, 0) {
				n = math.Trunc(n)
			}
			b.WriteString(jsString(inv.vm.ToValue(n)))
		case 'j':
			b.WriteString(inv.jsonString(a))
		case 'o', 'O':
			inv.inspect(b, a, 0, nil)
		case 'c': // CSS styling: consumed, not printed
		}
	}
	return args
}

// jsonString is JSON.stringify(v), or "[Circular]" when it throws.
func (inv *Invocation) jsonString(v goja.Value) string {
	var out string
	if ex := inv.vm.Try(func() {
		r := inv.stringify(v)
		if goja.IsUndefined(r) {
			out = "undefined"
		} else {
			out = r.String()
		}
	}); ex != nil {
		return "[Circular]"
	}
	return out
}

// inspect writes a single-line, Node-like rendering of v.
func (inv *Invocation) inspect(b *strings.Builder, v goja.Value, depth int, seen []*goja.Object) {
	if b.Len() > maxLine {
		return
	}
	o, ok := v.(*goja.Object)
	if !ok {
		if goja.IsString(v) && depth > 0 {
			b.WriteString(quoteJS(inv.capped(b, v.String())))
			return
		}
		b.WriteString(jsString(v))
		return
	}
	for _, s := range seen {
		if s == o {
			b.WriteString("[Circular]")
			return
		}
	}
	if _, isFn := goja.AssertFunction(o); isFn {
		name := o.Get("name")
		if name == nil || name.String() == "" {
			b.WriteString("[Function (anonymous)]")
		} else {
			b.WriteString("[Function: " + name.String() + "]")
		}
		return
	}
	switch class := classOf(o); class {
	case "Error":
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			stack := st.String()
			if inv.cfg.MapStack != nil {
				stack = inv.cfg.MapStack(stack) // positions in the user's source, not bundle.js
			}
			b.WriteString(stack)
		} else {
			b.WriteString(o.String())
		}
		return
	case "Date":
		b.WriteString(inv.jsonString(o))
		return
	case "RegExp":
		b.WriteString(o.String())
		return
	case "String", "Number", "Boolean", "BigInt": // boxed primitives
		var prim goja.Value
		switch class {
		case "String":
			prim = inv.vm.ToValue(o.String())
		case "Number":
			prim = o.ToNumber()
		case "Boolean":
			v, _ := o.Export().(bool)
			prim = inv.vm.ToValue(v)
		default:
			prim = inv.vm.ToValue(o.Export())
		}
		b.WriteString("[" + class + ": ")
		inv.inspect(b, prim, 1, nil)
		b.WriteString("]")
		return
	case "Map", "Set":
		if depth > inspectDepth {
			b.WriteString("[" + class + "]")
			return
		}
		inv.inspectCollection(b, o, class, depth, append(seen, o))
		return
	case "WeakMap", "WeakSet":
		b.WriteString(class + " { <items unknown> }")
		return
	}
	if sp, ok := host[*searchParams](o); ok {
		b.WriteString("URLSearchParams { ")
		b.WriteString(quoteJS(sp.encode()))
		b.WriteString(" }")
		return
	}
	if u, ok := hostURL(o); ok {
		b.WriteString("URL { " + quoteJS(u.Href()) + " }")
		return
	}
	isArray := o.ClassName() == "Array"
	if depth > inspectDepth {
		if isArray {
			b.WriteString("[Array]")
		} else {
			b.WriteString("[Object]")
		}
		return
	}
	seen = append(seen, o)
	if isArray {
		if n := get(o, "length").ToInteger(); n > denseArray {
			inv.inspectLongArray(b, o, n, depth, seen)
			return
		}
	} else if n := indexedLength(o); n > denseArray { // a typed array: one key per element
		inv.inspectLongArray(b, o, n, depth, seen)
		return
	}
	keys := o.Keys()
	open, close := "{", "}"
	if isArray {
		open, close = "[", "]"
	}
	if len(keys) == 0 {
		b.WriteString(open + close)
		return
	}
	b.WriteString(open + " ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == inspectItems {
			b.WriteString(moreItems(len(keys) - i))
			break
		}
		if b.Len() > maxLine {
			return
		}
		if !isArray {
			b.WriteString(propName(k))
			b.WriteString(": ")
		}
		inv.inspect(b, get(o, k), depth+1, seen)
	}
	b.WriteString(" " + close)
}

// denseArray is the length past which an array is shown by index, not by
// its key list: listing ten million keys to print a hundred items would
// cost more memory than the array itself.
const denseArray = 4096

// inspectLongArray writes the first inspectItems elements of a long array
// and how many more there are.
func (inv *Invocation) inspectLongArray(b *strings.Builder, o *goja.Object, n int64, depth int, seen []*goja.Object) {
	b.WriteString("[ ")
	for i := int64(0); i < inspectItems; i++ {
		if b.Len() > maxLine {
			return
		}
		inv.inspect(b, get(o, strconv.FormatInt(i, 10)), depth+1, seen)
		b.WriteString(", ")
	}
	b.WriteString(moreItems(int(n-inspectItems)) + " ]")
}

var (
	mapExport    = reflect.TypeOf([][2]any(nil))
	setExport    = reflect.TypeOf([]any(nil))
	bigIntExport = reflect.TypeOf((*big.Int)(nil))
)

// classOf names the built-in kind of o for inspect: goja's class name,
// refined where goja calls it "Object" (Map, Set and boxed BigInt by their
// export type, which costs no export; WeakMap and WeakSet by their
// intrinsic toStringTag).
func classOf(o *goja.Object) string {
	class := o.ClassName()
	if class != "Object" {
		return class
	}
	switch o.ExportType() {
	case mapExport:
		return "Map"
	case setExport:
		return "Set"
	case bigIntExport:
		return "BigInt"
	}
	if tag := o.GetSymbol(goja.SymToStringTag); tag != nil && goja.IsString(tag) {
		if t := tag.String(); t == "WeakMap" || t == "WeakSet" {
			return t
		}
	}
	return class
}

// moreItems is Node's note for the items past inspectItems.
func moreItems(n int) string {
	if n == 1 {
		return "... 1 more item"
	}
	return "... " + strconv.Itoa(n) + " more items"
}

// inspectCollection writes a Map or Set as Node does on one line:
// Map(2) { 'a' => 1, { x: 1 } => 'b' }, Set(1) { 1 }; a subclass shows
// its own name first: M(1) [Map] { 1 => 2 }. Entries come from the
// realm's own iterator (not one the object may define), at most
// inspectItems of them.
func (inv *Invocation) inspectCollection(b *strings.Builder, o *goja.Object, class string, depth int, seen []*goja.Object) {
	vm := inv.vm
	proto := get(vm.Get(class).ToObject(vm), "prototype").ToObject(vm)
	entries, ok := goja.AssertFunction(get(proto, "entries"))
	if !ok {
		b.WriteString(class + " {}")
		return
	}
	size := get(o, "size").ToInteger()
	name := class
	if c, isObj := get(o, "constructor").(*goja.Object); isObj {
		if n := get(c, "name"); goja.IsString(n) && n.String() != "" {
			name = n.String()
		}
	}
	b.WriteString(name + "(" + strconv.FormatInt(size, 10) + ")")
	if name != class {
		b.WriteString(" [" + class + "]")
	}
	if size == 0 {
		b.WriteString(" {}")
		return
	}
	it, err := entries(o)
	if err != nil {
		panic(err)
	}
	itObj := it.ToObject(vm)
	next, ok := goja.AssertFunction(itObj.Get("next"))
	if !ok {
		b.WriteString(" {}")
		return
	}
	b.WriteString(" { ")
	for i := int64(0); ; i++ {
		r, err := next(itObj)
		if err != nil {
			panic(err)
		}
		ro := r.ToObject(vm)
		if get(ro, "done").ToBoolean() {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if i == inspectItems {
			b.WriteString(moreItems(int(size - i)))
			break
		}
		if b.Len() > maxLine {
			return
		}
		pair := get(ro, "value").ToObject(vm) // [key, value]; a Set's key is its value
		if class == "Map" {
			inv.inspect(b, get(pair, "0"), depth+1, seen)
			b.WriteString(" => ")
		}
		inv.inspect(b, get(pair, "1"), depth+1, seen)
	}
	b.WriteString(" }")
}

// jsString is String(v) for primitives, with -0, BigInt and symbols as
// Node shows them.
func jsString(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	if goja.IsBigInt(v) {
		return v.String() + "n"
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "Symbol(" + v.String() + ")"
	}
	if goja.IsNumber(v) && v.ToFloat() == 0 && math.Signbit(v.ToFloat()) {
		return "-0"
	}
	return v.String()
}

// quoteJS quotes s the way util.inspect does: single quotes unless s holds one.
func quoteJS(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)|0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// propName writes an object key bare when it is an identifier, quoted otherwise.
func propName(k string) string {
	if k == "" {
		return "''"
	}
	for i, r := range k {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return quoteJS(k)
		}
	}
	return k
}
