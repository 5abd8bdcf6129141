package bindings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/flowgate/flowgate/internal/whatwgurl"
)

// MinRedactLen is the shortest secret that is redacted. Shorter values
// (one or two characters) are left alone: replacing every "a" in a log
// would make it unreadable and would reveal the secret by its pattern
// anyway, so such secrets get no protection from redaction.
const MinRedactLen = 3

// RedactMark replaces every secret occurrence.
const RedactMark = "***"

// Redact removes secret env values and Config.Redact values from s, also
// in the forms they take inside JSON strings, form-encoded bodies and the
// encodings the runtime offers (spellings.go), ignoring ASCII case.
func (inv *Invocation) Redact(s string) string {
	inv.initRedactor()
	return inv.redactor.Replace(s)
}

func (inv *Invocation) initRedactor() {
	if inv.redactor == nil {
		inv.redactor, inv.secretForms = newRedactor(inv.cfg)
		inv.secretNumbers = secretNumbers(inv.cfg)
	}
}

// secretSlack is the longest spelling of a secret: text cut this far past
// a limit still holds whole any secret that crosses the limit, so
// redacting before the final cut leaves no part of it.
func (inv *Invocation) secretSlack() int {
	inv.initRedactor()
	if len(inv.secretForms) == 0 {
		return 0
	}
	return len(inv.secretForms[0])
}

// redactSplit redacts a secret split across two consecutive log lines:
// prev ends with its first part and next starts with the rest.
func (inv *Invocation) redactSplit(prev, next string) (string, string) {
	inv.initRedactor()
	fp, fn := foldASCII(prev), foldASCII(next) // the forms are folded; same lengths
	for _, f := range inv.secretForms {
		for k := 1; k < len(f); k++ {
			if strings.HasSuffix(fp, f[:k]) && strings.HasPrefix(fn, f[k:]) {
				prev = prev[:len(prev)-k] + RedactMark
				next = RedactMark + next[len(f)-k:]
				fp, fn = foldASCII(prev), foldASCII(next)
				break
			}
		}
	}
	return prev, next
}

// newRedactor builds a replacer for every secret form, longest first so
// that a secret containing another secret is replaced whole, and returns
// the forms in that order.
func newRedactor(cfg *Config) (*redactor, []string) {
	var values []string
	add := func(v string) {
		if len(v) < MinRedactLen {
			return
		}
		for _, f := range secretForms(v) {
			f = foldASCII(f)
			if len(f) >= MinRedactLen && !slices.Contains(values, f) {
				values = append(values, f)
			}
		}
	}
	for _, e := range cfg.Env {
		if e.IsSecret {
			add(e.Value)
		}
	}
	for _, v := range cfg.Redact {
		add(v)
	}
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	return newMatcher(values), values
}

// secretNumbers are the secrets that are numeric text, as Number() reads
// them: a PIN "004217" becomes the claim 4217, which no spelling of the
// text matches.
func secretNumbers(cfg *Config) []float64 {
	var nums []float64
	add := func(v string) {
		if len(v) < MinRedactLen {
			return
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return
		}
		nums = append(nums, f)
	}
	for _, e := range cfg.Env {
		if e.IsSecret {
			add(e.Value)
		}
	}
	for _, v := range cfg.Redact {
		add(v)
	}
	return nums
}

// secretForms are the spellings of v that may reach a log line: raw, as
// escaped inside a JSON string (JSON.stringify of an object holding it),
// form/URL-encoded (a URLSearchParams body or query string), as each part
// of a WHATWG URL percent-encodes it (new URL(…).href), and in console's
// quoting, of v itself and of its JSON-escaped form (a JSON string logged
// inside an object), and the encodings of spellings.go. The forms are
// matched ignoring ASCII case.
func secretForms(v string) []string {
	forms := []string{v}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		j := strings.TrimSuffix(b.String(), "\n")
		j = j[1 : len(j)-1]
		forms = append(forms, j, jsEscape(j, '\''), jsEscape(j, '"'))
	}
	forms = append(forms, url.QueryEscape(v), whatwgurl.FormEscape(v), url.PathEscape(v),
		jsEscape(v, '\''), jsEscape(v, '"')) // console's util.inspect quoting
	forms = append(forms, whatwgurl.EncodedForms(v)...)
	forms = append(forms, escapedJSONForms(v)...)
	forms = append(forms, html.EscapeString(v)) // an HTML page echoing it
	return append(forms, encodingForms(v)...)
}

// escapedJSONForms are v inside a JSON string as other servers' encoders
// write it (an answer a run received, kept by a recording): Go's
// encoding/json escapes & < > as \u0026 …, Python's json every character
// outside ASCII, .NET's System.Text.Json both and " + ' ` as well.
func escapedJSONForms(v string) []string {
	var forms []string
	var b bytes.Buffer
	if json.NewEncoder(&b).Encode(v) == nil { // HTML escaping on
		j := strings.TrimSuffix(b.String(), "\n")
		forms = append(forms, j[1:len(j)-1])
	}
	return append(forms, jsonUnicodeEscaped(v, `"`), jsonUnicodeEscaped(v, "\"&<>+'`"))
}

// jsonUnicodeEscaped is v in a JSON string with control characters,
// characters outside ASCII and those in also written as \uXXXX.
func jsonUnicodeEscaped(v, also string) string {
	var n strings.Builder
	for _, r := range v {
		switch {
		case r == '\\':
			n.WriteString(`\\`)
		case r == '\n':
			n.WriteString(`\n`)
		case r == '\r':
			n.WriteString(`\r`)
		case r == '\t':
			n.WriteString(`\t`)
		case r < 0x20 || r >= 0x7f || strings.ContainsRune(also, r):
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&n, `\u%04x`, u)
			}
		case r == '"':
			n.WriteString(`\"`)
		default:
			n.WriteRune(r)
		}
	}
	return n.String()
}

// jsEscape is v as quoteJS writes it between quote characters q.
func jsEscape(v string, q byte) string {
	if q == '\'' {
		return singleQuoted.Replace(v)
	}
	return doubleQuoted.Replace(v)
}

// Built once: a Replacer is immutable and safe for concurrent use.
var (
	singleQuoted = strings.NewReplacer(`\`, `\\`, "'", `\'`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	doubleQuoted = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
)

// Secrets in what a workflow hands back. A secret environment value or a
// password of the event (Config.Redact) must not leave Flowgate in a token
// claim, a denial reason, a plan message or a form-field message either:
// those reach end users' browsers and the stored runtime log. Flowgate
// redacts them (every spelling, as in logs) rather than refusing the call,
// so a mistaken claim cannot turn into a failed sign-in, and it logs a
// warning that names where the secret was found, never the secret.

// redactOutput is s with secrets replaced, warning when there were any.
// redacting reports whether this invocation has anything to redact
// (redactOutput and redactValue return their input unchanged otherwise).
func (inv *Invocation) redacting() bool {
	inv.initRedactor()
	return len(inv.secretForms) > 0
}

func (inv *Invocation) redactOutput(where, s string) string {
	inv.initRedactor()
	if len(inv.secretForms) == 0 {
		return s
	}
	r := inv.redactor.Replace(s)
	if r != s {
		inv.log("warn", where+": a secret value or password was redacted: workflows may not put secrets in what they return")
	}
	return r
}

// redactValue is redactOutput over every string and key of a claim value
// (the Go form jsonWalker makes: maps, slices and scalars).
func (inv *Invocation) redactValue(where string, v any) any {
	inv.initRedactor()
	if len(inv.secretForms) == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		return inv.redactOutput(where, x)
	case float64:
		// A numeric secret (a PIN, a numeric key) set as a number claim.
		t := strconv.FormatFloat(x, 'f', -1, 64)
		if r := inv.redactOutput(where, t); r != t {
			return RedactMark
		}
		if slices.Contains(inv.secretNumbers, x) {
			inv.log("warn", where+": a secret value or password was redacted: workflows may not put secrets in what they return")
			return RedactMark
		}
	case []any:
		for i := range x {
			x[i] = inv.redactValue(where, x[i])
		}
		// A secret's character codes as an array of numbers
		// (Array.from(s, c => c.charCodeAt(0))) print as "115,107,…" in
		// the token's JSON: match them as the array prints.
		if codes, ok := numbersText(x); ok {
			if r := inv.redactOutput(where, codes); r != codes {
				return RedactMark
			}
		}
	case map[string]any:
		for k, e := range x {
			if rk := inv.redactOutput(where, k); rk != k {
				delete(x, k)
				k = rk
			}
			x[k] = inv.redactValue(where, e)
		}
	}
	return v
}

// RedactText is s with every spelling of cfg's secrets (secret
// environment values and cfg.Redact) replaced, as a run's own logs and
// errors are: for text about a run made outside it (the fetches no stub
// answered, URLs included).
func RedactText(cfg *Config, s string) string {
	r, forms := newRedactor(cfg)
	if len(forms) == 0 {
		return s
	}
	return r.Replace(s)
}

// RedactTruncated is RedactText for text cut at a bound: a secret the
// cut split leaves its first part at the end, which no whole spelling
// matches, so that tail is dropped as well (and a replacement character
// the cut left of a split multi-byte character with it).
func RedactTruncated(cfg *Config, s string) string {
	r, forms := newRedactor(cfg)
	if len(forms) == 0 {
		return s
	}
	s = r.Replace(s)
	trimmed := strings.TrimSuffix(s, "\uFFFD")
	fs, cut := foldASCII(trimmed), len(trimmed)
	for _, f := range forms {
		for k := min(len(f)-1, len(fs)); k >= 1; k-- {
			if strings.HasSuffix(fs, f[:k]) {
				cut = min(cut, len(fs)-k)
				break
			}
		}
	}
	if cut == len(trimmed) {
		return s
	}
	return trimmed[:cut]
}

// TextRedactor is RedactText for many texts under one cfg: the redactor
// (most of the cost) is built once.
func TextRedactor(cfg *Config) func(string) string {
	r, forms := newRedactor(cfg)
	if len(forms) == 0 {
		return func(s string) string { return s }
	}
	return r.Replace
}

// numbersText is an array of numbers as JSON prints its elements ("1,2,3"),
// when every element is a number.
func numbersText(x []any) (string, bool) {
	if len(x) < 2 {
		return "", false
	}
	b := make([]byte, 0, 4*len(x))
	for i, e := range x {
		f, ok := e.(float64)
		if !ok {
			return "", false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	return string(b), true
}
