package bindings

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

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
// in the forms they take inside JSON strings and form-encoded bodies.
func (inv *Invocation) Redact(s string) string {
	if inv.redactor == nil {
		inv.redactor = newRedactor(inv.cfg)
	}
	return inv.redactor.Replace(s)
}

// newRedactor builds a replacer for every secret form, longest first so
// that a secret containing another secret is replaced whole.
func newRedactor(cfg *Config) *strings.Replacer {
	var values []string
	add := func(v string) {
		if len(v) < MinRedactLen {
			return
		}
		for _, f := range secretForms(v) {
			if !slices.Contains(values, f) {
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
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, RedactMark)
	}
	return strings.NewReplacer(pairs...)
}

// secretForms are the spellings of v that may reach a log line: raw, as
// escaped inside a JSON string (JSON.stringify of an object holding it)
// and form/URL-encoded (a URLSearchParams body or query string).
func secretForms(v string) []string {
	forms := []string{v}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		j := strings.TrimSuffix(b.String(), "\n")
		forms = append(forms, j[1:len(j)-1])
	}
	forms = append(forms, url.QueryEscape(v), whatwgurl.FormEscape(v), url.PathEscape(v),
		jsEscape(v, '\''), jsEscape(v, '"')) // console's util.inspect quoting
	return forms
}

// jsEscape is v as quoteJS writes it between quote characters q.
func jsEscape(v string, q byte) string {
	r := strings.NewReplacer(`\`, `\\`, string(q), `\`+string(q), "\n", `\n`, "\t", `\t`, "\r", `\r`)
	return r.Replace(v)
}
