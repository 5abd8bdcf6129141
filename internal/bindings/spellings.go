package bindings

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// The encodings the runtime itself offers a workflow (encodeURIComponent,
// encodeURI, escape, character codes in hex or decimal) and the base64
// libraries commonly bundled. Matching ignores ASCII case, so upper- and lower-case
// hex and percent-escapes are one spelling. What is not promised (a
// secret reversed, split, interleaved or encrypted by workflow code) is
// in README.md: redaction catches mistakes, not a workflow bent on
// leaking what it was given.

// encodingForms are v in those encodings.
func encodingForms(v string) []string {
	forms := []string{
		percentEncode(v, uriComponentKeep),
		percentEncode(v, uriKeep),
		jsEscapeFn(v),
		hex.EncodeToString([]byte(v)),
		utf16Hex(v, 2),
		utf16Hex(v, 4),
		strings.ToUpper(v),
		strings.ToLower(v),
		// The runtime's toUpperCase/toLowerCase map case fully, as JS
		// does ("ß" → "SS", a final "Σ" → "ς"); Go's ToUpper/ToLower
		// map one rune to one rune.
		cases.Upper(language.Und).String(v),
		cases.Lower(language.Und).String(v),
		// Character codes in decimal, as an array prints (JSON, join,
		// console): charCodeAt is the runtime's own.
		utf16Decimal(v, ","),
		utf16Decimal(v, ", "),
	}
	// normalize(): a password typed with combining marks, or composed.
	for _, f := range []norm.Form{norm.NFC, norm.NFD, norm.NFKC, norm.NFKD} {
		if n := f.String(v); n != v {
			forms = append(forms, n, percentEncode(n, uriComponentKeep))
		}
	}
	forms = append(forms, base64Forms([]byte(v))...)
	if l, ok := latin1(v); ok && l != v {
		forms = append(forms, base64Forms([]byte(l))...)
	}
	return forms
}

const (
	// uriComponentKeep: what encodeURIComponent leaves as is.
	uriComponentKeep = "-_.!~*'()"
	// uriKeep: what encodeURI leaves as is (reserved characters too).
	uriKeep = uriComponentKeep + ";,/?:@&=+$#"
	// escapeKeep: what escape() leaves as is.
	escapeKeep = "@*_+-./"
)

func isAlnum(c rune) bool {
	return c < utf8.RuneSelf && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9')
}

const upperHex = "0123456789ABCDEF"

// percentEncode is encodeURI(Component): UTF-8 bytes as %XX except
// alphanumerics and keep.
func percentEncode(v, keep string) string {
	b := make([]byte, 0, 3*len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < utf8.RuneSelf && (isAlnum(rune(c)) || strings.IndexByte(keep, c) >= 0) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return string(b)
}

// jsEscapeFn is escape(v): UTF-16 units below 256 as %XX, others %uXXXX.
func jsEscapeFn(v string) string {
	b := make([]byte, 0, 3*len(v))
	for _, u := range utf16.Encode([]rune(v)) {
		switch {
		case u < utf8.RuneSelf && (isAlnum(rune(u)) || strings.IndexByte(escapeKeep, byte(u)) >= 0):
			b = append(b, byte(u))
		case u < 256:
			b = append(b, '%', upperHex[u>>4], upperHex[u&15])
		default:
			b = append(b, '%', 'u', upperHex[u>>12], upperHex[u>>8&15], upperHex[u>>4&15], upperHex[u&15])
		}
	}
	return string(b)
}

// utf16Hex is each UTF-16 unit in lower-case hex, padded to width digits
// (what charCodeAt(i).toString(16).padStart(width, "0") joined makes).
func utf16Hex(v string, width int) string {
	b := make([]byte, 0, 4*len(v))
	var digits [4]byte
	for _, u := range utf16.Encode([]rune(v)) {
		d := strconv.AppendUint(digits[:0], uint64(u), 16)
		for k := len(d); k < width; k++ {
			b = append(b, '0')
		}
		b = append(b, d...)
	}
	return string(b)
}

// utf16Decimal is each UTF-16 unit in decimal, joined by sep.
func utf16Decimal(v, sep string) string {
	b := make([]byte, 0, 5*len(v))
	for i, u := range utf16.Encode([]rune(v)) {
		if i > 0 {
			b = append(b, sep...)
		}
		b = strconv.AppendUint(b, uint64(u), 10)
	}
	return string(b)
}

// latin1 is v as one byte per UTF-16 unit (what btoa encodes), when every
// unit fits.
func latin1(v string) (string, bool) {
	b := make([]byte, 0, len(v))
	for _, c := range v {
		if c > 255 {
			return "", false
		}
		b = append(b, byte(c))
	}
	return string(b), true
}

const minBase64Core = 6

// base64Forms are the base64 characters that depend only on b, at each
// of the three offsets b can start at inside a longer encoded text, in the
// standard and URL alphabets. At most two characters at each end (which
// also depend on the neighbouring bytes) are not part of a form.
func base64Forms(b []byte) []string {
	var forms []string
	for off := 0; off < 3; off++ {
		in := append(make([]byte, off), b...)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			s := enc.EncodeToString(in)
			// Characters fully inside b: bits [8*off, 8*(off+len(b))).
			first := (8*off + 5) / 6
			last := 8 * (off + len(b)) / 6
			// Shorter cores would match inside any base64 text (a JWT in
			// a log line) too often: a secret under 5 bytes has none.
			if last-first >= minBase64Core {
				forms = append(forms, s[first:last])
			}
		}
	}
	return forms
}

// foldASCII is s with ASCII upper-case letters lowered (same length).
func foldASCII(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// redactor replaces every spelling of every secret, ignoring ASCII case.
// It finds them with a strings.Replacer on the folded text that turns
// each match into a marker of the same length (\x01 then \x00s), so
// the positions carry over to the original.
type redactor struct {
	mask *strings.Replacer
}

// noSecrets is the redactor of an invocation with nothing to redact (the
// common case): it holds no state, so every invocation shares it.
var noSecrets = &redactor{}

func newMatcher(forms []string) *redactor {
	if len(forms) == 0 {
		return noSecrets
	}
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, "\x01"+strings.Repeat("\x00", len(f)-1))
	}
	return &redactor{mask: strings.NewReplacer(pairs...)}
}

// Replace is s with each secret occurrence replaced by RedactMark.
func (r *redactor) Replace(s string) string {
	if r.mask == nil {
		return s
	}
	f := foldASCII(s)
	m := r.mask.Replace(f)
	if m == f {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch {
		case m[i] == 1 && f[i] != 1:
			b.WriteString(RedactMark)
		case m[i] == 0 && f[i] != 0:
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
