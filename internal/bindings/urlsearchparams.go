package bindings

import (
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/whatwgurl"
)

// searchParams is a URLSearchParams list: name/value pairs in order,
// optionally tied to the URL whose query it mirrors (WHATWG URL §6).
type searchParams struct {
	list []whatwgurl.Pair
	url  *urlObject // nil for a standalone URLSearchParams
}

// urlObject is a URL as JS sees it: the parsed URL and its live
// searchParams, made on first use so url.searchParams is always the same
// object.
type urlObject struct {
	*whatwgurl.URL
	sp    *searchParams
	spObj *goja.Object
}

// urlJS is what a JS URL object wraps: a struct with no exported field or
// method, so the object has no own properties, as in Node (wrapping
// *urlObject itself showed the Go methods of whatwgurl.URL).
type urlJS struct{ u *urlObject }

// hostURL is the *urlObject a JS URL object wraps.
func hostURL(v goja.Value) (*urlObject, bool) {
	h, ok := host[*urlJS](v)
	if !ok {
		return nil, false
	}
	return h.u, true
}

// encode is the URLSearchParams serialisation (toString).
func (sp *searchParams) encode() string { return whatwgurl.SerializeForm(sp.list) }

// changed pushes the list back into the owning URL's query.
func (sp *searchParams) changed() {
	if sp.url == nil {
		return
	}
	sp.url.SetQuery(sp.encode())
}

func (sp *searchParams) append(name, value string) {
	sp.list = append(sp.list, whatwgurl.Pair{Name: name, Value: value})
	sp.changed()
}

func (sp *searchParams) delete(name string, value *string) {
	sp.list = slices.DeleteFunc(sp.list, func(p whatwgurl.Pair) bool {
		return p.Name == name && (value == nil || p.Value == *value)
	})
	sp.changed()
}

func (sp *searchParams) get(name string) (string, bool) {
	for _, p := range sp.list {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func (sp *searchParams) getAll(name string) []string {
	out := []string{}
	for _, p := range sp.list {
		if p.Name == name {
			out = append(out, p.Value)
		}
	}
	return out
}

func (sp *searchParams) has(name string, value *string) bool {
	return slices.ContainsFunc(sp.list, func(p whatwgurl.Pair) bool {
		return p.Name == name && (value == nil || p.Value == *value)
	})
}

// set replaces the first pair named name and drops the others.
func (sp *searchParams) set(name, value string) {
	found := false
	out := sp.list[:0]
	for _, p := range sp.list {
		if p.Name == name {
			if found {
				continue
			}
			found = true
			p.Value = value
		}
		out = append(out, p)
	}
	sp.list = out
	if !found {
		sp.list = append(sp.list, whatwgurl.Pair{Name: name, Value: value})
	}
	sp.changed()
}

// sort orders pairs stably by name in UTF-16 code units, as JS compares.
func (sp *searchParams) sort() {
	slices.SortStableFunc(sp.list, func(a, b whatwgurl.Pair) int { return compareUTF16(a.Name, b.Name) })
	sp.changed()
}

func compareUTF16(a, b string) int {
	if whatwgurl.IsASCII(a) && whatwgurl.IsASCII(b) {
		return strings.Compare(a, b)
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	return slices.Compare(ua, ub)
}
