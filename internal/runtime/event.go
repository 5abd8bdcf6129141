package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// maxEventDepth bounds nesting in the event JSON, so a deep event cannot
// recurse the builder as deep as the input.
const maxEventDepth = 64

// eventValue builds the event as plain JS objects and arrays, keeping key
// order, so the workflow sees ordinary (not host-backed) values. Empty
// input is an empty object. It is a single pass over the bytes (the event
// is built on every invocation): strings decode as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD), a "__proto__" key is
// data as in JSON.parse, and integers up to 2^53 are JS integers.
func eventValue(vm *goja.Runtime, data []byte) (goja.Value, error) {
	k := eventKeys{proto: protoKeys(vm)}
	return k.value(vm, data)
}

// eventKeys is a runtime's state for building events: the names its
// Object.prototype has (the same for every runtime an engine builds, and
// fixed once the runtime is frozen) and, for a pooled runtime, the object
// keys seen in earlier events, so repeated keys cost no new string.
type eventKeys struct {
	proto  map[string]bool   // read-only, shared
	intern map[string]string // nil: no cache
}

// Bounds of the key cache: a few hundred short names cover every event
// schema; keys that are data (long or many) are simply not cached.
const (
	maxInternKeys   = 512
	maxInternKeyLen = 40
)

// protoKeys are the property names on vm's Object.prototype chain, which
// an event key must be defined over rather than set.
func protoKeys(vm *goja.Runtime) map[string]bool {
	proto := map[string]bool{"__proto__": true}
	for o := vm.NewObject().Prototype(); o != nil; o = o.Prototype() {
		for _, name := range o.GetOwnPropertyNames() {
			proto[name] = true
		}
	}
	return proto
}

func (k *eventKeys) value(vm *goja.Runtime, data []byte) (goja.Value, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return vm.NewObject(), nil
	}
	p := eventParser{vm: vm, data: data, keys: k}
	v, err := p.value(0)
	if err == nil {
		p.space()
		if p.pos < len(p.data) {
			err = errors.New("unexpected data after the value")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("event JSON at byte %d: %w", p.pos, err)
	}
	return v, nil
}

type eventParser struct {
	vm   *goja.Runtime
	data []byte
	pos  int
	buf  []byte // scratch for strings with escapes
	keys *eventKeys
}

var errEventEnd = errors.New("unexpected end of JSON input")

func (p *eventParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *eventParser) syntax(what string) error {
	if p.pos >= len(p.data) {
		return errEventEnd
	}
	return fmt.Errorf("invalid character %q %s", p.data[p.pos], what)
}

func (p *eventParser) value(depth int) (goja.Value, error) {
	p.space()
	if p.pos >= len(p.data) {
		return nil, errEventEnd
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		if depth >= maxEventDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", maxEventDepth)
		}
		return p.object(depth)
	case c == '[':
		if depth >= maxEventDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", maxEventDepth)
		}
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.vm.ToValue(s), nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true", p.vm.ToValue(true))
	case c == 'f':
		return p.literal("false", p.vm.ToValue(false))
	case c == 'n':
		return p.literal("null", goja.Null())
	}
	return nil, p.syntax("looking for beginning of value")
}

func (p *eventParser) literal(word string, v goja.Value) (goja.Value, error) {
	for i := 0; i < len(word); i++ {
		if p.pos >= len(p.data) {
			return nil, errEventEnd
		}
		if p.data[p.pos] != word[i] {
			return nil, p.syntax("in literal " + word)
		}
		p.pos++
	}
	return v, nil
}

func (p *eventParser) object(depth int) (goja.Value, error) {
	obj := p.vm.NewObject()
	p.pos++ // '{'
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return obj, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEventEnd
		}
		if p.data[p.pos] != '"' {
			return nil, p.syntax("looking for beginning of object key string")
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEventEnd
		}
		if p.data[p.pos] != ':' {
			return nil, p.syntax("after object key")
		}
		p.pos++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		// A key Object.prototype has (its accessors, "__proto__", frozen
		// data) must be defined, as JSON.parse does; for any other key a
		// plain Set on the fresh object does the same, more cheaply.
		if p.keys.proto[key] {
			err = obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		} else {
			err = obj.Set(key, v)
		}
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEventEnd
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return obj, nil
		default:
			return nil, p.syntax("after object key:value pair")
		}
	}
}

func (p *eventParser) array(depth int) (goja.Value, error) {
	p.pos++ // '['
	p.space()
	var items []any
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return p.vm.NewArray(), nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, errEventEnd
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return p.vm.NewArray(items...), nil
		default:
			return nil, p.syntax("after array element")
		}
	}
}

// key reads an object key, reusing the runtime's copy of a known one.
func (p *eventParser) key() (string, error) {
	if p.keys.intern == nil {
		return p.str()
	}
	start := p.pos + 1
	for i := start; i < len(p.data) && i-start <= maxInternKeyLen; i++ {
		c := p.data[i]
		if c == '"' {
			if s, ok := p.keys.intern[string(p.data[start:i])]; ok {
				p.pos = i + 1
				return s, nil
			}
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	s, err := p.str()
	if err == nil && len(s) <= maxInternKeyLen && len(p.keys.intern) < maxInternKeys {
		p.keys.intern[s] = s
	}
	return s, err
}

// str reads a string literal at p.pos (the opening quote).
func (p *eventParser) str() (string, error) {
	p.pos++
	start := p.pos
	// Fast path: plain ASCII up to the closing quote.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := string(p.data[start:p.pos])
			p.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		p.pos++
	}
	b := append(p.buf[:0], p.data[start:p.pos]...)
	defer func() { p.buf = b[:0] }()
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(b), nil
		case c < 0x20:
			return "", p.syntax("in string literal")
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				p.pos = len(p.data)
				return "", errEventEnd
			}
			p.pos++
			switch e := p.data[p.pos]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, err := p.hex4(p.pos + 1)
				if err != nil {
					return "", err
				}
				p.pos += 4
				if utf16.IsSurrogate(r) {
					hi := r
					r = utf8.RuneError
					// A valid pair is one character; a lone half is U+FFFD.
					if p.pos+6 < len(p.data) && p.data[p.pos+1] == '\\' && p.data[p.pos+2] == 'u' {
						if r2, err := p.hex4(p.pos + 3); err == nil {
							if d := utf16.DecodeRune(hi, r2); d != utf8.RuneError {
								r = d
								p.pos += 6
							}
						}
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", p.syntax("in string escape code")
			}
			p.pos++
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, p.data[p.pos:p.pos+size]...)
			}
			p.pos += size
		}
	}
	return "", errEventEnd
}

// hex4 reads the four hex digits of a \u escape starting at i.
func (p *eventParser) hex4(i int) (rune, error) {
	if i+4 > len(p.data) {
		p.pos = len(p.data)
		return 0, errEventEnd
	}
	var r rune
	for j := i; j < i+4; j++ {
		c := p.data[j]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			p.pos = j
			return 0, p.syntax("in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// number reads a JSON number: integers within ±2^53 become JS integers,
// everything else a float (out-of-range magnitudes are ±Infinity or 0, as
// in JSON.parse).
func (p *eventParser) number() (goja.Value, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos >= len(p.data) {
		return nil, errEventEnd
	}
	switch c := p.data[p.pos]; {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		digits()
	default:
		return nil, p.syntax("in numeric literal")
	}
	isInt := true
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		isInt = false
		p.pos++
		if digits() == 0 {
			return nil, p.syntax("after decimal point in numeric literal")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		isInt = false
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.syntax("in exponent of numeric literal")
		}
	}
	text := p.data[start:p.pos]
	if isInt && len(text) <= 16 {
		neg := text[0] == '-'
		if neg {
			text = text[1:]
		}
		var n int64
		for _, c := range text {
			n = n*10 + int64(c-'0')
		}
		if n <= 1<<53 {
			if neg {
				if n == 0 {
					return p.vm.ToValue(math.Copysign(0, -1)), nil
				}
				n = -n
			}
			return p.vm.ToValue(n), nil
		}
		text = p.data[start:p.pos]
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("number %s: %w", text, err)
	}
	return p.vm.ToValue(f), nil
}
