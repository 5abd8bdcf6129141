package workflow

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// PasswordRedactMark replaces a password wherever it would appear in a
// Result; it is the mark the bindings use for secrets.
const PasswordRedactMark = "***"

// minPasswordLen is the shortest password that is redacted: replacing every
// "a" would make output unreadable and still show the password's pattern
// (the bindings use the same bound).
const minPasswordLen = 3

// Passwords returns the password fields of an event (context.auth.password,
// firstPassword, …) that must never appear in logs, errors or any other
// part of a Result. The CLI and the runtime API both take them from here,
// so a password is redacted the same way on both paths. An event that is
// not a JSON object has none.
func Passwords(event []byte) []string {
	if !mayHoldPasswords(event) {
		return nil // most events: no decode
	}
	return decodePasswords(event)
}

// decodePasswords is Passwords by decoding the event.
func decodePasswords(event []byte) []string {
	var ev struct {
		Context struct {
			Auth map[string]any `json:"auth"`
		} `json:"context"`
	}
	// Numbers stay text (UseNumber): a number no float64 holds (1e400)
	// beside a password made the whole decode fail, while the runtime
	// reads it as Infinity and hands the workflow the password. Whatever
	// was decoded before an error is kept: redacting too much is safe.
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	_ = dec.Decode(&ev)
	var out []string
	for _, f := range PasswordFields {
		if s, ok := ev.Context.Auth[f].(string); ok && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// mayHoldPasswords reports whether event could have a password field:
// a decoded key equals a field name only if the name is in the text
// literally or the text has a \u escape (any other escape makes a
// character no field name has).
func mayHoldPasswords(event []byte) bool {
	if bytes.Contains(event, []byte(`\u`)) {
		return true
	}
	for _, f := range PasswordFields {
		if bytes.Contains(event, []byte(f)) {
			return true
		}
	}
	return false
}

// RedactStrings replaces every value of secrets (raw, as escaped inside a
// JSON string, and URL-encoded) in every string of the Result: error, logs, denial reasons,
// form-field messages and claims. The bindings already redact logs and
// errors while the workflow runs; this is the last pass over what leaves
// the sandbox, for the fields a workflow writes verbatim.
func (r *Result) RedactStrings(secrets []string) {
	rep := passwordReplacer(secrets)
	if r == nil || rep == nil {
		return
	}
	s := rep.Replace
	if r.Error != nil {
		r.Error.Message, r.Error.Stack = s(r.Error.Message), s(r.Error.Stack)
	}
	for i := range r.Logs {
		r.Logs[i].Message = s(r.Logs[i].Message)
	}
	for _, t := range []*Token{r.AccessToken, r.IDToken, r.M2MToken} {
		if t != nil {
			t.CustomClaims = redactMap(t.CustomClaims, s)
		}
	}
	if r.Auth != nil {
		r.Auth.Reason = s(r.Auth.Reason)
	}
	if r.Plan != nil {
		if d := r.Plan.DenySelection; d != nil {
			d.Message = s(d.Message)
			for i := range d.Reasons {
				d.Reasons[i] = s(d.Reasons[i])
			}
		}
		if d := r.Plan.DenyCancellation; d != nil {
			d.Reason = s(d.Reason)
		}
	}
	if r.Widget != nil {
		for k, v := range r.Widget.InvalidFormFields {
			r.Widget.InvalidFormFields[k] = s(v)
		}
	}
}

// passwordReplacer replaces each secret, longest first so that a secret
// containing another is replaced whole; nil when there is nothing to do.
// PasswordsRedactor is RedactStrings' replacement for many texts: the
// replacer is built once.
func PasswordsRedactor(secrets []string) func(string) string {
	if rep := passwordReplacer(secrets); rep != nil {
		return rep.Replace
	}
	return func(s string) string { return s }
}

func passwordReplacer(secrets []string) *strings.Replacer {
	var forms []string
	for _, v := range secrets {
		if len(v) < minPasswordLen {
			continue
		}
		for _, f := range []string{v, jsonForm(v, false), jsonForm(v, true), url.QueryEscape(v), url.PathEscape(v)} {
			if !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	if len(forms) == 0 {
		return nil
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, PasswordRedactMark)
	}
	return strings.NewReplacer(pairs...)
}

// jsonForm is v as written inside a JSON string: as JSON.stringify writes
// it (html false) or as Go's encoder does (html true: <, >, & escaped).
func jsonForm(v string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(v) // a string always encodes
	j := strings.TrimSuffix(b.String(), "\n")
	return j[1 : len(j)-1]
}

// redactMap redacts the strings of a claims value, keys included.
func redactMap(m map[string]any, s func(string) string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[s(k)] = redactValue(v, s)
	}
	return out
}

func redactValue(v any, s func(string) string) any {
	switch x := v.(type) {
	case string:
		return s(x)
	case map[string]any:
		return redactMap(x, s)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, s)
		}
		return out
	}
	return v
}
