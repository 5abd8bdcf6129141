package runtime

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// exportJSON turns a built event into the shapes encoding/json produces,
// with every number a float64.
func exportJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = exportJSON(e)
		}
	case []any:
		for i, e := range t {
			t[i] = exportJSON(e)
		}
	case int64:
		return float64(t)
	}
	return v
}

func TestEventValue(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{``, `{}`, ""},
		{" \n\t", `{}`, ""},
		{`{"b":1,"a":[true,false,null],"c":{"d":"e"}}`, `{"b":1,"a":[true,false,null],"c":{"d":"e"}}`, ""},
		{`"\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t"`, `"é😀�x\"\\/\b\f\n\r\t"`, ""},
		{"\"a\xffb\"", `"a�b"`, ""},
		{`[9007199254740993, -0.5e1, 1E2, 1e400, 0]`, `[9007199254740992,-5,100,null,0]`, ""},
		{`{"k":1,"k":2}`, `{"k":2}`, ""},
		{`{"a":`, "", "byte 5: unexpected end"},
		{`{} {}`, "", "unexpected data after the value"},
		{`[1,]`, "", "looking for beginning of value"},
		{`{"a" 1}`, "", "after object key"},
		{`01`, "", "unexpected data"},
		{`-`, "", "unexpected end"},
		{`1.e5`, "", "decimal point"},
		{`"\x"`, "", "escape"},
		{"\"a\nb\"", "", "in string literal"},
		{`nul`, "", "unexpected end"},
		{`[` + strings.Repeat(`[`, maxEventDepth) + strings.Repeat(`]`, maxEventDepth+1), "", "nested deeper than 64"},
		{strings.Repeat(`[`, maxEventDepth) + strings.Repeat(`]`, maxEventDepth), strings.Repeat(`[`, maxEventDepth) + strings.Repeat(`]`, maxEventDepth), ""},
	}
	vm := goja.New()
	stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	for _, tt := range tests {
		v, err := eventValue(vm, []byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v; want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		// JSON.stringify shows key order as built.
		s, err := stringify(goja.Undefined(), v)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.String(); got != tt.want {
			t.Errorf("%q: built %s; want %s", tt.in, s, tt.want)
		}
	}
	neg, _ := eventValue(vm, []byte(`-0`))
	if f := neg.ToFloat(); f != 0 || !math.Signbit(f) {
		t.Errorf("-0 built as %v", f)
	}
}

// FuzzEventValue: every valid JSON builds (within the depth limit) to the
// value encoding/json decodes, invalid JSON fails, and nothing panics.
func FuzzEventValue(f *testing.F) {
	for _, s := range []string{benchEvent, `{"__proto__":{"x":1}}`, `[1,2.5,-0,1e999,"\ud800"]`, `"\u00e9"`, "\"\xff\"", `{"a":[{"b":null}]}`, ` 1 `, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	vm := goja.New()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := eventValue(vm, data)
		empty := len(bytes.TrimSpace(data)) == 0
		valid := json.Valid(data)
		if err != nil {
			if valid && !strings.Contains(err.Error(), "nested deeper") {
				t.Fatalf("valid JSON %q failed: %v", data, err)
			}
			return
		}
		if !valid && !empty {
			t.Fatalf("invalid JSON %q built %v", data, v)
		}
		if empty {
			return
		}
		var want any
		if err := json.Unmarshal(data, &want); err != nil {
			// encoding/json refuses numbers out of float64 range; JSON.parse
			// (and the builder) give ±Infinity.
			if strings.Contains(err.Error(), "cannot unmarshal number") {
				return
			}
			t.Fatalf("json.Unmarshal(%q): %v", data, err)
		}
		if got := exportJSON(v.Export()); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q built %#v; encoding/json gives %#v", data, got, want)
		}
	})
}

func BenchmarkEventValue(b *testing.B) {
	vm := goja.New()
	// As on a pooled runtime: the prototype's names known, the key cache on.
	k := eventKeys{proto: protoKeys(vm), intern: map[string]string{}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.value(vm, []byte(benchEvent)); err != nil {
			b.Fatal(err)
		}
	}
}

// Keys Object.prototype has must become own data properties even when the
// prototype is frozen and tamed (accessors), as JSON.parse makes them; the
// same keys again (from the runtime's key cache) build the same way.
func TestEventKeysOnFrozenPrototype(t *testing.T) {
	e := New(Options{})
	code, smap := build(t, `export default async function () {}`)
	p, err := e.Load(code, smap)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.newSlot(p)
	if err != nil {
		t.Fatal(err)
	}
	in := `{"toString":1,"constructor":"c","__defineGetter__":2,"hasOwnProperty":3,"__proto__":{"x":1},"valueOf":4,"plain":5}`
	check, err := s.vm.RunString(`(function (ev) {
		"use strict";
		const want = ["toString", "constructor", "__defineGetter__", "hasOwnProperty", "__proto__", "valueOf", "plain"];
		if (JSON.stringify(Object.keys(ev)) !== JSON.stringify(want)) return "keys " + JSON.stringify(Object.keys(ev));
		for (const k of want) {
			const d = Object.getOwnPropertyDescriptor(ev, k);
			if (!d || !("value" in d) || !d.writable || !d.enumerable || !d.configurable) return "not own data: " + k;
		}
		if (Object.getPrototypeOf(ev) !== Object.prototype || ev.__proto__.x !== 1 || ev.toString !== 1) return "wrong values";
		return "ok";
	})`)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := goja.AssertFunction(check)
	for i := 0; i < 2; i++ {
		ev, err := s.keys.value(s.vm, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := fn(goja.Undefined(), ev)
		if err != nil || got.String() != "ok" {
			t.Fatalf("build %d: %v %v", i+1, got, err)
		}
	}
	if len(s.keys.intern) != 8 { // with "x"
		t.Errorf("key cache has %d keys, want 8", len(s.keys.intern))
	}
}
