package bindings

import (
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// searchParams is a URLSearchParams list: name/value pairs in order,
// optionally tied to the URL whose query it mirrors (WHATWG URL §6).
type searchParams struct {
	list []pair
	url  *urlObject // nil for a standalone URLSearchParams
}

type pair struct{ name, value string }

// parseForm parses an application/x-www-form-urlencoded string.
func parseForm(s string) []pair {
	var out []pair
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, pair{formDecode(name), formDecode(value)})
	}
	return out
}

// formDecode replaces + by space and decodes %XX bytes; malformed
// escapes stay as written and invalid UTF-8 becomes U+FFFD, as browsers do.
func formDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// formEscape serialises one name or value: alphanumerics and *-._ stay,
// space becomes +, every other UTF-8 byte is %XX.
func formEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// encode is the URLSearchParams serialisation (toString).
func (sp *searchParams) encode() string {
	var b strings.Builder
	for i, p := range sp.list {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(formEscape(p.name))
		b.WriteByte('=')
		b.WriteString(formEscape(p.value))
	}
	return b.String()
}

// changed pushes the list back into the owning URL's query.
func (sp *searchParams) changed() {
	if sp.url == nil {
		return
	}
	if q := sp.encode(); q != "" {
		sp.url.query = &q
	} else {
		sp.url.query = nil
	}
}

func (sp *searchParams) append(name, value string) {
	sp.list = append(sp.list, pair{name, value})
	sp.changed()
}

func (sp *searchParams) delete(name string, value *string) {
	sp.list = slices.DeleteFunc(sp.list, func(p pair) bool {
		return p.name == name && (value == nil || p.value == *value)
	})
	sp.changed()
}

func (sp *searchParams) get(name string) (string, bool) {
	for _, p := range sp.list {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

func (sp *searchParams) getAll(name string) []string {
	out := []string{}
	for _, p := range sp.list {
		if p.name == name {
			out = append(out, p.value)
		}
	}
	return out
}

func (sp *searchParams) has(name string, value *string) bool {
	return slices.ContainsFunc(sp.list, func(p pair) bool {
		return p.name == name && (value == nil || p.value == *value)
	})
}

// set replaces the first pair named name and drops the others.
func (sp *searchParams) set(name, value string) {
	found := false
	out := sp.list[:0]
	for _, p := range sp.list {
		if p.name == name {
			if found {
				continue
			}
			found = true
			p.value = value
		}
		out = append(out, p)
	}
	sp.list = out
	if !found {
		sp.list = append(sp.list, pair{name, value})
	}
	sp.changed()
}

// sort orders pairs stably by name in UTF-16 code units, as JS compares.
func (sp *searchParams) sort() {
	slices.SortStableFunc(sp.list, func(a, b pair) int { return compareUTF16(a.name, b.name) })
	sp.changed()
}

func compareUTF16(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	return slices.Compare(ua, ub)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
