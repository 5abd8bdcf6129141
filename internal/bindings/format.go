package bindings

import (
	"math"
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
		if s, ok := args[0].Export().(string); ok && strings.IndexByte(s, '%') >= 0 && len(args) > 1 {
			rest = inv.formatPlaceholders(&b, s, args[1:])
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
		if s, ok := a.Export().(string); ok {
			b.WriteString(s)
			continue
		}
		inv.inspect(&b, a, 0, nil)
	}
	return cutUTF8(b.String(), maxLine)
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
				b.WriteString(jsString(a))
			}
		case 'd', 'i', 'f':
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
		if s, isStr := v.Export().(string); isStr && depth > 0 {
			b.WriteString(quoteJS(s))
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
	switch o.ClassName() {
	case "Error":
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			b.WriteString(st.String())
		} else {
			b.WriteString(o.String())
		}
		return
	case "Date":
		b.WriteString(inv.jsonString(o))
		return
	case "RegExp", "String", "Number", "Boolean":
		b.WriteString(o.String())
		return
	}
	if sp, ok := o.Export().(*searchParams); ok {
		b.WriteString("URLSearchParams { ")
		b.WriteString(quoteJS(sp.encode()))
		b.WriteString(" }")
		return
	}
	if u, ok := o.Export().(*urlObject); ok {
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
			b.WriteString("... " + strconv.Itoa(len(keys)-i) + " more items")
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

// jsString is String(v) for primitives, with -0 and symbols as Node shows them.
func jsString(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	if f, ok := v.Export().(float64); ok && f == 0 && math.Signbit(f) {
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
