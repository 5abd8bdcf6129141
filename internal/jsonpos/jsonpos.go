// Package jsonpos is the one strict JSON reader for files and bodies whose
// problems are shown to people with a line and column: kinde.json, events,
// environment files and *.test.json files. It checks that the input is
// exactly one JSON value, says where it is not, and records where each key
// and value starts so a later problem (a wrong type, an unknown field) can
// be located too.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says what is wrong with input that is not one JSON value.
type Kind int

const (
	Syntax   Kind = iota // a character where JSON does not allow it
	End                  // the input ends inside the value (or is empty)
	Trailing             // something other than white space follows the value
)

// Error locates input that is not exactly one JSON value.
type Error struct {
	Kind   Kind
	Offset int // byte offset of the offending character (len(input) for End)
	Line   int // 1-based
	Col    int // 1-based, in characters
	// Err is encoding/json's error, whose text names the character found
	// and what was expected.
	Err *json.SyntaxError
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Message()) }

// Message is the error without its position.
func (e *Error) Message() string {
	switch e.Kind {
	case End:
		return "unexpected end of input"
	case Trailing:
		return "text after the end of the value"
	}
	return e.Err.Error()
}

// Check reports whether data is exactly one JSON value (any white space
// around it); the error is an *Error. It keeps no positions: the runtime
// API checks every event with it.
func Check(data []byte) error {
	err := json.Unmarshal(data, new(json.RawMessage))
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err // not reached: RawMessage takes any value
	}
	e := &Error{Kind: Syntax, Offset: max(int(se.Offset)-1, 0), Err: se}
	switch {
	case strings.HasSuffix(se.Error(), "after top-level value"):
		e.Kind = Trailing
	case se.Error() == "unexpected end of JSON input",
		int(se.Offset) == len(data) && data[len(data)-1] != ' ' && strings.HasPrefix(se.Error(), "invalid character ' '"):
		// The input ended inside the value; inside a literal encoding/json
		// reports the space it reads at the end ("n" → "invalid character ' '").
		e.Kind, e.Offset = End, len(data)
	}
	e.Line, e.Col = Pos(data, e.Offset)
	return e
}

// Doc is one checked JSON value with where each of its parts starts. A
// path names a part as JavaScript would: "" is the whole value,
// "cases[0].fetch[1].url" a nested one, a["x.y"] a key that needs quotes.
type Doc struct {
	data   []byte
	values map[string]int // path → offset of the value's first character
	keys   map[string]int // path → offset of the opening quote of its key
	ends   map[string]int // path → offset just past the value
	// members are each object's members in the order written.
	members map[string][]Member
}

// Member is one key of an object and the path of its value.
type Member struct {
	Key, Path string
}

// Parse checks data with Check and records where each key and value starts.
func Parse(data []byte) (*Doc, error) {
	if err := Check(data); err != nil {
		return nil, err
	}
	d := &Doc{data: data, values: map[string]int{}, keys: map[string]int{}, ends: map[string]int{}, members: map[string][]Member{}}
	if err := d.walk(); err != nil {
		return nil, err // not reached: Check accepted data
	}
	return d, nil
}

// frame is one open object or array of the walk.
type frame struct {
	path   string
	object bool
	index  int
}

// walk reads the value token by token, without recursion, so depth costs
// no stack (encoding/json already caps nesting at 10000 in Check).
func (d *Doc) walk() error {
	dec := json.NewDecoder(bytes.NewReader(d.data))
	dec.UseNumber() // Check accepts numbers past float64 (1e400): so must the walk
	var stack []frame
	path := ""
	for {
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if !dec.More() {
				if _, err := dec.Token(); err != nil { // the closing delimiter
					return err
				}
				d.ends[top.path] = int(dec.InputOffset())
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return nil
				}
				continue
			}
			if top.object {
				at := d.start(int(dec.InputOffset()))
				tok, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := tok.(string)
				path = member(top.path, key)
				d.keys[path] = at
				d.members[top.path] = append(d.members[top.path], Member{Key: key, Path: path})
			} else {
				path = fmt.Sprintf("%s[%d]", top.path, top.index)
				top.index++
			}
		}
		at := d.start(int(dec.InputOffset()))
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		d.values[path] = at
		if delim, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{path: path, object: delim == '{'})
			continue
		}
		d.ends[path] = int(dec.InputOffset())
		if len(stack) == 0 {
			return nil
		}
	}
}

// member is the path of key in the object at parent: parent.key, or
// parent["key"] for a key that is empty or holds '.', '[', ']' or '"'.
func member(parent, key string) string {
	if key == "" || strings.ContainsAny(key, `.[]"`) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// start skips white space and separators before the next token.
func (d *Doc) start(off int) int {
	for off < len(d.data) && strings.IndexByte(" \t\r\n:,", d.data[off]) >= 0 {
		off++
	}
	return off
}

// Data is the document's text.
func (d *Doc) Data() []byte { return d.data }

// IsObject reports whether the document is a JSON object.
func (d *Doc) IsObject() bool { return d.data[d.values[""]] == '{' }

// Value returns the offset where the value at path starts.
func (d *Doc) Value(path string) (off int, ok bool) {
	off, ok = d.values[path]
	return off, ok
}

// Key returns the offset of the key of the member at path.
func (d *Doc) Key(path string) (off int, ok bool) {
	off, ok = d.keys[path]
	return off, ok
}

// At returns the line and column of the value at path, or of the nearest
// enclosing value that exists.
func (d *Doc) At(path string) (line, col int) {
	for {
		if off, ok := d.values[path]; ok {
			return Pos(d.data, off)
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return Pos(d.data, d.values[""])
		}
		path = path[:i]
	}
}

// Before returns the path of the last value starting at or before off
// (the innermost one when several start there): where encoding/json's
// UnmarshalTypeError.Offset points.
func (d *Doc) Before(off int) string {
	best, bestOff := "", -1
	for path, o := range d.values {
		if o <= off && (o > bestOff || o == bestOff && len(path) > len(best)) {
			best, bestOff = path, o
		}
	}
	return best
}

// KeyNamed returns the path of the first key (in the text) called name.
func (d *Doc) KeyNamed(name string) (string, bool) {
	var paths []string
	for k := range d.keys {
		if k == name || strings.HasSuffix(k, "."+name) {
			paths = append(paths, k)
		}
	}
	if len(paths) == 0 {
		return "", false
	}
	sort.Slice(paths, func(i, j int) bool { return d.keys[paths[i]] < d.keys[paths[j]] })
	return paths[0], true
}

// Members lists the members of the object at path in the order written
// (a repeated key as often as it is written; Raw gives its last value).
func (d *Doc) Members(path string) []Member { return d.members[path] }

// Raw returns the text of the value at path.
func (d *Doc) Raw(path string) (json.RawMessage, bool) {
	start, ok := d.values[path]
	if !ok {
		return nil, false
	}
	return json.RawMessage(d.data[start:d.ends[path]]), true
}

// Pos turns a byte offset in data into a 1-based line and column; columns
// count characters, as every Flowgate diagnostic does.
func Pos(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[lineStart:]) + 1
}
