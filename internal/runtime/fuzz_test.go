package runtime

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/workflow"
)

// FuzzHostileCompose composes builtins and callbacks into programs of the
// kind that found the native recursions (a builtin installed as a method
// that a builtin calls back): every program must end — succeeded or a
// failed Result — with no host panic (kind internal) and, above all, no
// crash of the process. Each byte picks a piece.
//
//	go test ./internal/runtime -run '^$' -fuzz FuzzHostileCompose -fuzztime 60s
func FuzzHostileCompose(f *testing.F) {
	for _, seed := range []string{"\x00\x00\x00", "\x01\x02\x03\x04", "\x05\x06\x07\x08\x09", "\x0a\x0b\x0c\x0d\x0e\x0f", "\xff\x10\x20\x30"} {
		f.Add([]byte(seed))
	}
	e := New(Options{Limits: Limits{WallTime: 300 * time.Millisecond, MemoryBytes: 32 << 20}})
	f.Cleanup(e.Close)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 24 {
			data = data[:24]
		}
		code := handler(composeProgram(data))
		p, err := e.Load([]byte(code), nil)
		if err != nil {
			t.Fatalf("composed program does not compile: %v\n%s", err, code)
		}
		r := e.Run(context.Background(), Invocation{Program: p, Settings: settings(), Event: []byte(`{}`)})
		if r.Error != nil && r.Error.Kind == workflow.KindInternal {
			t.Fatalf("host panic: %s\n%s", r.Error.Message, code)
		}
	})
}

// The pieces: builtins to install, the slots they go in, and what makes
// the runtime call them.
var (
	fuzzBuiltins = []string{
		"Error.prototype.toString", "Object.prototype.toLocaleString", "Object.prototype.toString",
		"Date.prototype.toJSON", "Date.prototype.toISOString", "Array.prototype.join", "Array.prototype.toString",
		"Array.prototype.toLocaleString", "Array.prototype.flat", "Array.prototype.concat", "String.prototype.trim",
		"String.prototype.concat", "String.prototype.repeat", "String.raw", "Function.prototype.call",
		"Function.prototype.apply", "Function.prototype.toString", "Reflect.get", "Reflect.apply", "Reflect.ownKeys",
		"JSON.stringify", "JSON.parse", "String", "Number", "Object.keys", "Object.getPrototypeOf",
		"Number.prototype.toString", "Symbol.prototype.toString", "RegExp.prototype.test", "Math.max",
		"Promise.resolve", "Array.from", "Object.assign", "encodeURIComponent",
	}
	fuzzSlots = []string{
		"toString", "valueOf", "toJSON", "toISOString", "name", "message", "[Symbol.toPrimitive]", "join",
		"then", "length", "0", "raw", "[Symbol.iterator]", "constructor", "get",
	}
	fuzzActions = []string{
		"String(o)", "o + ''", "JSON.stringify(o)", "[o].join()", "o.toLocaleString()", "p.x", "'x' in p",
		"Object.setPrototypeOf(o, p)", "o.__proto__ = p", "String.raw({raw: o})", "new Date(o)", "[o].flat(Infinity)",
		"[...o]", "Array.from(o)", "Object.keys(p)", "Reflect.ownKeys(p)", "o instanceof Date", "p instanceof Date",
		"await o", "Promise.resolve(o)", "JSON.stringify([o, o], null, 4)", "o.flat(Infinity)", "String(p)",
		"Object.prototype.toString.call(p)", "new Proxy(p, o).x", "o.call(o, o)", "`${o}`", "o == 1", "o < p",
		"Object.assign({}, p)",
	}
)

func composeProgram(data []byte) string {
	var b strings.Builder
	b.WriteString("const o = {}, a = [o], p = new Proxy(o, {});\n")
	pick := func(list []string, x byte) string { return list[int(x)%len(list)] }
	for i := 0; i+1 < len(data); i += 2 {
		if data[i]&0x80 != 0 {
			// An action that makes the runtime call what was installed.
			b.WriteString("try { " + pick(fuzzActions, data[i+1]) + " } catch (e) {}\n")
			continue
		}
		slot := pick(fuzzSlots, data[i])
		target := "o"
		if data[i+1]&0x40 != 0 {
			target = "a"
		}
		if strings.HasPrefix(slot, "[") {
			b.WriteString("try { " + target + slot + " = " + pick(fuzzBuiltins, data[i+1]) + " } catch (e) {}\n")
		} else {
			b.WriteString("try { " + target + "[\"" + slot + "\"] = " + pick(fuzzBuiltins, data[i+1]) + " } catch (e) {}\n")
		}
	}
	for _, act := range []string{"String(o)", "JSON.stringify(o)", "p.x", "[o].join()", "o instanceof Date"} {
		b.WriteString("try { " + act + " } catch (e) {}\n")
	}
	return b.String()
}
