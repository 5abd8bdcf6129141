package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Bounds of one stored recording, after redaction: a call past them is not
// recorded (and counted), never cut (a cut event would replay as another).
const (
	MaxEventBytes = 256 << 10       // the redacted event
	MaxFetch      = replay.MaxFetch // recorded outbound answers (redirect hops included)
	MaxFetchBytes = 640 << 10       // their URLs and bodies together
)

// ErrTooLarge: the call is larger than a recording may be.
var ErrTooLarge = errors.New("too large to record")

// Mark replaces a password or secret value (the runtime's redaction mark).
const Mark = bindings.RedactMark

// Call is one trigger call as the run saw it, before redaction.
type Call struct {
	ID         string
	WorkflowID string
	Trigger    string
	Event      []byte
	Fetch      []httpstub.Stub
	// Env are the run's variables: every spelling of a secret one's value
	// is removed from what is stored.
	Env map[string]bindings.EnvVar
}

// Redact turns a call into what may be stored: password fields (the
// event's, and any field named like one at any depth) and secret values
// removed in every spelling the runtime's redaction knows, from the event
// and from every recorded URL and body, and personal data treated by rule,
// with key as the environment's hashing key. Only Content-Type and
// Location are kept of a recorded answer's headers.
func Redact(c Call, rule PIIRule, key []byte) (replay.Recorded, error) {
	rule = rule.Defaults()
	if len(c.Fetch) > MaxFetch {
		return replay.Recorded{}, fmt.Errorf("%d outbound requests (at most %d): %w", len(c.Fetch), MaxFetch, ErrTooLarge)
	}
	w := &walker{rule: rule, h: hasher{key: key}, drop: map[string]bool{}}
	for _, f := range rule.DropFields {
		w.drop[fieldKey(f)] = true
	}
	w.passwords = append(w.passwords, workflow.Passwords(c.Event)...)

	event, err := w.json(c.Event)
	if err != nil {
		return replay.Recorded{}, fmt.Errorf("event: %w", err)
	}
	fetch := make([]httpstub.Stub, 0, len(c.Fetch))
	for _, f := range c.Fetch {
		s := httpstub.Stub{Method: f.Method, URL: w.url(f.URL), Status: f.Status, Body: f.Body}
		for _, h := range []string{"Content-Type", "Location"} { // what a replay answers with
			if v := header(f.Headers, h); v != "" {
				if s.Headers == nil {
					s.Headers = map[string]string{}
				}
				if h == "Location" {
					v = w.url(v)
				}
				s.Headers[h] = v
			}
		}
		if b := []byte(s.Body); json.Valid(b) && len(bytes.TrimSpace(b)) > 0 {
			if out, err := w.json(b); err == nil {
				s.Body = string(out)
			}
		} else {
			s.Body = w.text(s.Body)
		}
		fetch = append(fetch, s)
	}

	// The text pass: every spelling of the passwords found and of the
	// secret variables, wherever a workflow or a service put it. One
	// redactor for the whole call (building it is most of the cost).
	cfg := &bindings.Config{Env: c.Env, Redact: w.passwords}
	scrub := func(s string) string { return passwordsOut(bindings.RedactText(cfg, s), w.passwords) }
	pieces := []string{string(event)}
	for _, f := range fetch {
		pieces = append(pieces, f.URL, f.Body)
	}
	pieces = scrubAll(pieces, scrub)
	ev := pieces[0]
	for i := range fetch {
		fetch[i].URL, fetch[i].Body = pieces[1+2*i], pieces[2+2*i]
	}
	if !json.Valid([]byte(ev)) {
		// A secret spelled across JSON syntax: store the structure-safe
		// form with each string scrubbed instead.
		var v any
		_ = unmarshal(event, &v)
		ev = string(marshal(scrubStrings(v, scrub)))
	}
	if len(ev) > MaxEventBytes {
		return replay.Recorded{}, fmt.Errorf("event of %d bytes after redaction (at most %d): %w", len(ev), MaxEventBytes, ErrTooLarge)
	}
	total := 0
	for i := range fetch {
		for k, v := range fetch[i].Headers {
			fetch[i].Headers[k] = scrub(v)
		}
		total += len(fetch[i].URL) + len(fetch[i].Body)
	}
	if total > MaxFetchBytes {
		return replay.Recorded{}, fmt.Errorf("outbound answers of %d bytes (at most %d): %w", total, MaxFetchBytes, ErrTooLarge)
	}
	rec := replay.Recorded{ID: c.ID, WorkflowID: c.WorkflowID, Trigger: c.Trigger, Event: json.RawMessage(ev)}
	if len(fetch) > 0 {
		rec.Fetch = fetch
	}
	// What is stored must replay: a call the replay reader refuses (too
	// deeply nested, an answer without a status) is not recorded.
	if _, err := replay.Parse(bytes.NewReader(marshal(rec)), "recording", false, 1); err != nil {
		return replay.Recorded{}, fmt.Errorf("not replayable: %w", err)
	}
	return rec, nil
}

// pieceSep joins the texts of one call for a single redaction pass; no
// spelling of a secret spans it unless the secret holds it (then each
// text is redacted on its own).
const pieceSep = "\x00\x1f\x00"

func scrubAll(pieces []string, scrub func(string) string) []string {
	out := strings.Split(scrub(strings.Join(pieces, pieceSep)), pieceSep)
	if len(out) == len(pieces) {
		return out
	}
	for i, p := range pieces {
		pieces[i] = scrub(p)
	}
	return pieces
}

// passwordsOut removes the passwords as the runtime's Result redaction
// does (it also knows Go's HTML-escaped JSON spelling).
func passwordsOut(s string, passwords []string) string {
	r := workflow.Result{Logs: []workflow.Log{{Message: s}}}
	r.RedactStrings(passwords)
	return r.Logs[0].Message
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// walker applies the rule to decoded JSON and collects the password
// values it removes, so the text pass also removes their copies.
type walker struct {
	rule      PIIRule
	h         hasher
	drop      map[string]bool
	passwords []string
}

// json is b (a JSON value) with the rule applied.
func (w *walker) json(b []byte) ([]byte, error) {
	var v any
	if err := unmarshal(b, &v); err != nil {
		return nil, err
	}
	return marshal(w.value(v)), nil
}

func unmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers kept as written
	return dec.Decode(v)
}

// marshal writes v as JSON.stringify would (no HTML escaping), so the
// spellings the redaction knows are the ones stored.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // decoded JSON always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func (w *walker) value(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if nv, keep := w.field(k, e); keep {
				out[w.text(k)] = nv
			}
		}
		return out
	case []any:
		for i := range x {
			x[i] = w.value(x[i])
		}
		return x
	case string:
		return w.text(x)
	}
	return v
}

// field applies the field-name rules to k's value e; keep false leaves
// the field out.
func (w *walker) field(k string, e any) (any, bool) {
	fk := fieldKey(k)
	switch {
	case w.drop[fk]:
		return nil, false
	case isPasswordField(fk):
		switch e.(type) {
		case bool, nil: // isPasswordReset: true holds no secret, and replays need its type
			return e, true
		}
		w.collect(e)
		return Mark, true
	case nameFields[fk]:
		return w.keyed(w.rule.Names, "name", e)
	case phoneFields[fk]:
		if s, ok := scalar(e); ok && w.rule.Phones == Hash {
			return w.h.phone(s), true
		}
		return w.keyed(w.rule.Phones, "phone", e)
	case usernameFields[fk]:
		return w.keyed(w.rule.Usernames, "username", e)
	}
	return w.value(e), true
}

// keyed applies a keep/drop/hash action to a field's value.
func (w *walker) keyed(action, kind string, e any) (any, bool) {
	switch action {
	case Keep:
		return w.value(e), true
	case Hash:
		if s, ok := scalar(e); ok {
			return w.h.token(kind, s), true
		}
	}
	return nil, false // drop, or a structure that cannot be hashed
}

// collect remembers every string under a password field.
func (w *walker) collect(v any) {
	switch x := v.(type) {
	case string:
		if x != "" {
			w.passwords = append(w.passwords, x)
		}
	case json.Number:
		w.passwords = append(w.passwords, x.String())
	case map[string]any:
		for _, e := range x {
			w.collect(e)
		}
	case []any:
		for _, e := range x {
			w.collect(e)
		}
	}
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// text applies the value rules to a string: an IP address, email
// addresses inside it.
func (w *walker) text(s string) string {
	if w.rule.IPs != Keep && len(s) <= 64 {
		if a, err := netip.ParseAddr(s); err == nil {
			if w.rule.IPs == Drop {
				return ""
			}
			return w.h.ip(a)
		}
		if ap, err := netip.ParseAddrPort(s); err == nil {
			if w.rule.IPs == Drop {
				return ""
			}
			return netip.AddrPortFrom(netip.MustParseAddr(w.h.ip(ap.Addr())), ap.Port()).String()
		}
	}
	if w.rule.Emails != Keep && strings.IndexByte(s, '@') >= 0 {
		s = emailRE.ReplaceAllStringFunc(s, func(a string) string {
			if w.rule.Emails == Drop {
				return ""
			}
			return w.h.email(w.rule.Emails, a)
		})
	}
	return s
}

// url applies the value rules to a URL's query values and path, keeping
// the rest as written (a replay matches the URL exactly).
func (w *walker) url(raw string) string {
	base, query, hasQuery := strings.Cut(raw, "?")
	frag := ""
	if hasQuery {
		query, frag, _ = strings.Cut(query, "#")
		if frag != "" || strings.Contains(raw, "#") {
			frag = "#" + frag
		}
	}
	if u, err := url.Parse(base); err == nil && u.User != nil {
		u.User = nil // credentials in a URL are never stored
		base = u.String()
	}
	if strings.IndexByte(base, '@') >= 0 {
		if p, err := url.PathUnescape(base); err == nil {
			base = w.text(p)
		}
	}
	if !hasQuery {
		return base
	}
	pairs := strings.Split(query, "&")
	for i, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			pairs[i] = w.text(p)
			continue
		}
		if isPasswordField(fieldKey(dk)) {
			w.collect(dv)
			pairs[i] = k + "=" + Mark
			continue
		}
		if nv := w.text(dv); nv != dv {
			pairs[i] = k + "=" + url.QueryEscape(nv)
		}
	}
	return base + "?" + strings.Join(pairs, "&") + frag
}

// scrubStrings applies f to every string and key of decoded JSON.
func scrubStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[f(k)] = scrubStrings(e, f)
		}
		return out
	case []any:
		for i := range x {
			x[i] = scrubStrings(x[i], f)
		}
		return x
	case string:
		return f(x)
	}
	return v
}
