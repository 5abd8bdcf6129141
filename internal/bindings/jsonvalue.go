package bindings

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/dop251/goja"
)

// jsonValue turns a JS value into what JSON.parse(JSON.stringify(v))
// would give, as Go values (map[string]any, []any, string, float64, bool,
// nil), counting the size of the JSON text as it goes. It follows
// JSON.stringify: toJSON methods, boxed primitives, NaN/Infinity as null,
// undefined/functions/symbols dropped from objects and null in arrays,
// TypeError on BigInt and cycles.
//
// It exists so claims do not go through the realm's user-facing
// JSON.stringify, which the runtime wraps with a guard that calls back into
// JS for every value. Its own guard is the size budget: the walk stops as
// soon as the text would exceed max, so a huge or sparse value costs at
// most max steps.
type jsonWalker struct {
	inv   *Invocation
	max   int
	size  int
	over  bool
	stack []*goja.Object // objects being serialised, for cycle detection
}

// value serialises v (the value of holder[key]); ok is false where
// JSON.stringify would produce undefined.
func (w *jsonWalker) value(key string, v goja.Value) (out any, ok bool) {
	if w.over {
		return nil, false
	}
	if o, isObj := v.(*goja.Object); isObj || goja.IsBigInt(v) {
		var obj *goja.Object
		if isObj {
			obj = o
		} else {
			obj = v.ToObject(w.inv.vm)
		}
		if fn, callable := goja.AssertFunction(obj.Get("toJSON")); callable {
			r, err := fn(v, w.inv.vm.ToValue(key))
			if err != nil {
				panic(err)
			}
			v = r
		}
	}
	if o, isObj := v.(*goja.Object); isObj {
		switch o.ClassName() {
		case "Number":
			v = o.ToNumber()
		case "String":
			v = w.inv.vm.ToValue(o.String())
		case "Boolean":
			if b, isBool := o.Export().(bool); isBool {
				v = w.inv.vm.ToValue(b)
			}
		case "BigInt":
			w.inv.throwType("Do not know how to serialize a BigInt")
		}
	}
	switch {
	case v == nil || goja.IsUndefined(v):
		return nil, false
	case goja.IsNull(v):
		w.add(4)
		return nil, true
	case goja.IsString(v):
		s := v.String()
		w.add(quotedLen(s))
		return s, true
	case goja.IsNumber(v):
		f := v.ToFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			w.add(4)
			return nil, true
		}
		var buf [32]byte
		w.add(len(strconv.AppendFloat(buf[:0], f, 'g', -1, 64)))
		if f == 0 {
			f = 0 // -0 is "0" in JSON
		}
		return f, true
	case goja.IsBigInt(v):
		w.inv.throwType("Do not know how to serialize a BigInt")
	}
	o, isObj := v.(*goja.Object)
	if !isObj {
		if b, isBool := v.Export().(bool); isBool {
			w.add(5)
			return b, true
		}
		return nil, false // symbols
	}
	if _, callable := goja.AssertFunction(o); callable {
		return nil, false
	}
	if o.ClassName() == "RawJSON" { // JSON.rawJSON
		text := get(o, "rawJSON").String()
		w.add(len(text))
		var raw any
		if err := json.Unmarshal([]byte(text), &raw); err != nil {
			w.inv.throwType("invalid raw JSON")
		}
		return raw, true
	}
	// Nesting is refused here, where the value is set: a Result nested
	// past what a JSON decoder accepts (encoding/json stops at 10,000)
	// failed in the worker supervisor instead, as a crash.
	if len(w.stack) >= MaxJSONDepth {
		w.inv.throwType("value nests deeper than %d levels", MaxJSONDepth)
	}
	for _, s := range w.stack {
		if s == o {
			w.inv.throwType("Converting circular structure to JSON")
		}
	}
	w.stack = append(w.stack, o)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()
	if o.ClassName() == "Array" {
		return w.array(o), true
	}
	return w.object(o), true
}

func (w *jsonWalker) array(o *goja.Object) []any {
	n := get(o, "length").ToInteger()
	w.add(2)
	out := make([]any, 0, min(n, 64))
	for i := int64(0); i < n && !w.over; i++ {
		if i > 0 {
			w.add(1)
		}
		key := strconv.FormatInt(i, 10)
		v, ok := w.value(key, get(o, key))
		if !ok {
			w.add(4) // null
		}
		out = append(out, v)
	}
	return out
}

func (w *jsonWalker) object(o *goja.Object) map[string]any {
	keys := w.inv.listKeys(o, "a typed array or String object in the value")
	w.add(2)
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		if w.over {
			break
		}
		v, ok := w.value(k, get(o, k))
		if !ok {
			continue
		}
		if len(out) > 0 {
			w.add(1)
		}
		w.add(quotedLen(k) + 1)
		out[k] = v
	}
	return out
}

func (w *jsonWalker) add(n int) {
	w.size += n
	if w.size > w.max {
		w.over = true
	}
}

// quotedLen is the length of s as a JSON string literal.
func quotedLen(s string) int {
	n := 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20:
			n += 6
		default:
			n++
		}
	}
	return n
}
