package jsonpos

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, data string
		want       string // "" for valid
		kind       Kind
	}{
		{"object", `{"a": [1, {"b": null}]}`, "", 0},
		{"scalar with space", " 1 \n", "", 0},
		{"trailing comma", "{\n  \"a\": 1,\n}", "3:1: invalid character '}' looking for beginning of object key string", Syntax},
		{"text after", "{}\n\n  x", "3:3: text after the end of the value", Trailing},
		{"two values", `{} {}`, "1:4: text after the end of the value", Trailing},
		{"cut short", `{"a": `, "1:7: unexpected end of input", End},
		{"empty", ``, "1:1: unexpected end of input", End},
		{"only space", " \n ", "2:2: unexpected end of input", End},
		{"cut inside a literal", "[tru", "1:5: unexpected end of input", End},
		{"comment", "{\n// no\n}", "2:1: invalid character '/' looking for beginning of object key string", Syntax},
		{"columns are characters", "{\"é\": x}", "1:7: invalid character 'x' looking for beginning of value", Syntax},
		{"invalid UTF-8 is text", "\"\xff\"", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v", tt.data, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || err.Error() != tt.want || e.Kind != tt.kind {
				t.Fatalf("Check(%q) = %v (%+v), want %q kind %d", tt.data, err, e, tt.want, tt.kind)
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	src := "{\n  \"workflow\": \"w\",\n  \"cases\": [\n    {\"name\": \"a\", \"fetch\": [{\"url\": 1}]},\n    7\n  ],\n  \"a.b\": {\"\": 2}\n}"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][2]int{
		"":                      {1, 1},
		"workflow":              {2, 15},
		"cases":                 {3, 12},
		"cases[0]":              {4, 5},
		"cases[0].name":         {4, 14},
		"cases[0].fetch[0].url": {4, 37},
		"cases[1]":              {5, 5},
		"cases[0].nothere":      {4, 5}, // the nearest enclosing value
		`["a.b"][""]`:           {7, 15},
	} {
		if l, c := d.At(path); l != want[0] || c != want[1] {
			t.Errorf("At(%q) = %d:%d, want %d:%d", path, l, c, want[0], want[1])
		}
	}
	if off, ok := d.Key("cases"); !ok || !strings.HasPrefix(src[off:], `"cases"`) {
		t.Errorf("Key(cases) = %d, %v", off, ok)
	}
	if p, ok := d.KeyNamed("url"); !ok || p != "cases[0].fetch[0].url" {
		t.Errorf("KeyNamed(url) = %q, %v", p, ok)
	}
	if raw, ok := d.Raw("cases[0]"); !ok || string(raw) != `{"name": "a", "fetch": [{"url": 1}]}` {
		t.Errorf("Raw(cases[0]) = %s, %v", raw, ok)
	}
	if raw, _ := d.Raw("workflow"); string(raw) != `"w"` {
		t.Errorf("Raw(workflow) = %s", raw)
	}
	off, _ := d.Value("cases[0].fetch[0].url")
	if p := d.Before(off + 1); p != "cases[0].fetch[0].url" {
		t.Errorf("Before = %q", p)
	}
	var keys []string
	for _, m := range d.Members("") {
		keys = append(keys, m.Key+"="+m.Path)
	}
	if got := strings.Join(keys, " "); got != `workflow=workflow cases=cases a.b=["a.b"]` {
		t.Errorf("Members = %s", got)
	}
	if !d.IsObject() {
		t.Error("IsObject = false")
	}
	if d, _ := Parse([]byte(" [1]")); d.IsObject() {
		t.Error("an array IsObject")
	}
}

// TestHostile: deep nesting is refused by the check before the walk (no
// recursion either way), and a long flat document is walked in one pass.
func TestHostile(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	if _, err := Parse([]byte(deep)); err == nil {
		t.Error("100000 nested arrays accepted")
	}
	ok := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("9000 nested arrays: %v", err)
	}
	wide := "[" + strings.Repeat("0,", 200000) + "0]"
	d, err := Parse([]byte(wide))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Value("[200000]"); !ok {
		t.Error("last element not recorded")
	}
}

// FuzzParse: any input is either one JSON value (exactly when
// encoding/json says so) with every recorded position inside it, or a
// located *Error; never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a": [1, {"b": null}]}`, `{} {}`, `[`, `"\u00e9"`, "{\"a\":1,\n\"a\":2}", " 1 ", "\xff", `{"a.b":{"c[0]":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("Parse(%q) = %v, json.Valid = %v", data, err, valid)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 || e.Col < 1 || e.Offset < 0 || e.Offset > len(data) {
				t.Fatalf("Parse(%q): unlocated %v", data, err)
			}
			return
		}
		for p, off := range d.values {
			if off < 0 || off >= len(data) || d.ends[p] <= off || d.ends[p] > len(data) {
				t.Fatalf("%q: %q at %d..%d", data, p, off, d.ends[p])
			}
			if raw, _ := d.Raw(p); !json.Valid(raw) {
				t.Fatalf("%q: Raw(%q) = %q is not JSON", data, p, raw)
			}
		}
	})
}

// TestParseHugeNumbers: a number past float64's range is valid JSON; Parse
// locates it like any other value (a policy reader then refuses it).
func TestParseHugeNumbers(t *testing.T) {
	doc, err := Parse([]byte(`{"a": 1e400, "b": -1e400}`))
	if err != nil {
		t.Fatal(err)
	}
	if off, ok := doc.Value("b"); !ok || off != 18 {
		t.Fatalf("b at %d, %v", off, ok)
	}
}
