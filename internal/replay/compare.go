package replay

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// MaxValueRunes bounds a value shown in a diff, MaxPathRunes its path.
const (
	MaxValueRunes = 80
	MaxPathRunes  = 120
)

// maxClaimDepth is how deep claim objects are compared key by key;
// deeper, a whole value is compared.
const maxClaimDepth = 8

// compare calls emit for each difference between the baseline's Result
// and the candidate's, in a fixed order: status, decisions, then the
// tokens' claims by path. Logs and durations are not behaviour and are
// never compared. Values are whole; the caller redacts, then truncates.
func compare(base, cand *workflow.Result, emit func(Diff)) {
	if base == nil {
		base = &workflow.Result{}
	}
	if cand == nil {
		cand = &workflow.Result{}
	}
	if b, c := statusOf(base), statusOf(cand); b != c {
		emit(Diff{Category: CatStatus, Path: "status", Before: b, After: c})
	}
	var ba, ca workflow.Auth
	if base.Auth != nil {
		ba = *base.Auth
	}
	if cand.Auth != nil {
		ca = *cand.Auth
	}
	if ba.Denied != ca.Denied {
		emit(Diff{Category: CatDenial, Path: "auth.denied", Before: strconv.FormatBool(ba.Denied), After: strconv.FormatBool(ca.Denied)})
	}
	if ba.Reason != ca.Reason {
		emit(Diff{Category: CatDenial, Path: "auth.reason", Before: show(ba.Reason), After: show(ca.Reason)})
	}
	if b, c := mfaOf(base), mfaOf(cand); b != c {
		emit(Diff{Category: CatMFA, Path: "mfa.enforcementPolicy", Before: b, After: c})
	}
	comparePlan(base.Plan, cand.Plan, emit)
	compareForm(base.Widget, cand.Widget, emit)
	for _, t := range []struct {
		name       string
		base, cand *workflow.Token
	}{{"accessToken", base.AccessToken, cand.AccessToken}, {"idToken", base.IDToken, cand.IDToken}, {"m2mToken", base.M2MToken, cand.M2MToken}} {
		compareToken(t.name, t.base, t.cand, emit)
	}
	if b, c := ssoOf(base), ssoOf(cand); b != c {
		emit(Diff{Category: CatOther, Path: "ssoSession.policy", Before: b, After: c})
	}
	if b, c := riskOf(base), riskOf(cand); b != c {
		emit(Diff{Category: CatOther, Path: "risk.score", Before: b, After: c})
	}
}

// statusOf is the status with the failure's kind: "failed (timeout)".
func statusOf(r *workflow.Result) string {
	if r.Status == workflow.StatusFailed && r.Error != nil {
		return r.Status + " (" + string(r.Error.Kind) + ")"
	}
	return r.Status
}

func mfaOf(r *workflow.Result) string {
	if r.MFA == nil {
		return ""
	}
	return show(r.MFA.EnforcementPolicy)
}

func ssoOf(r *workflow.Result) string {
	if r.SSOSession == nil {
		return ""
	}
	return show(r.SSOSession.Policy)
}

func riskOf(r *workflow.Result) string {
	if r.Risk == nil {
		return ""
	}
	return strconv.FormatFloat(r.Risk.Score, 'g', -1, 64)
}

func comparePlan(b, c *workflow.Plan, emit func(Diff)) {
	var bs, cs, bc, cc string
	if b != nil {
		bs, bc = jsonText(b.DenySelection), jsonText(b.DenyCancellation)
	}
	if c != nil {
		cs, cc = jsonText(c.DenySelection), jsonText(c.DenyCancellation)
	}
	if bs != cs {
		emit(Diff{Category: CatPlan, Path: "plan.denySelection", Before: bs, After: cs})
	}
	if bc != cc {
		emit(Diff{Category: CatPlan, Path: "plan.denyCancellation", Before: bc, After: cc})
	}
}

func compareForm(b, c *workflow.Widget, emit func(Diff)) {
	var bf, cf map[string]string
	if b != nil {
		bf = b.InvalidFormFields
	}
	if c != nil {
		cf = c.InvalidFormFields
	}
	for _, k := range unionKeys(bf, cf) {
		bv, bok := bf[k]
		cv, cok := cf[k]
		if bok != cok || bv != cv {
			emit(Diff{Category: CatForm, Path: "widget.invalidFormFields" + pathKey(k), Before: showIf(bv, bok), After: showIf(cv, cok)})
		}
	}
}

func compareToken(name string, b, c *workflow.Token, emit func(Diff)) {
	var bc, cc map[string]any
	var br, cr bool
	if b != nil {
		bc, br = b.CustomClaims, b.ResetClaims
	}
	if c != nil {
		cc, cr = c.CustomClaims, c.ResetClaims
	}
	if br != cr {
		emit(Diff{Category: CatClaimChanged, Path: name + ".resetClaims", Before: strconv.FormatBool(br), After: strconv.FormatBool(cr)})
	}
	compareClaims(name, bc, cc, 0, emit)
}

// compareClaims compares two claim objects key by key, descending into
// objects both sides hold (up to maxClaimDepth).
func compareClaims(path string, b, c map[string]any, depth int, emit func(Diff)) {
	for _, k := range unionKeys(b, c) {
		bv, bok := b[k]
		cv, cok := c[k]
		p := path + pathKey(k)
		switch {
		case !bok:
			emit(Diff{Category: CatClaimAdded, Path: p, After: fullJSON(cv)})
		case !cok:
			emit(Diff{Category: CatClaimRemoved, Path: p, Before: fullJSON(bv)})
		default:
			bm, bIsMap := bv.(map[string]any)
			cm, cIsMap := cv.(map[string]any)
			if bIsMap && cIsMap && depth < maxClaimDepth {
				compareClaims(p, bm, cm, depth+1, emit)
				continue
			}
			if !sameValue(bv, cv, 0) {
				emit(Diff{Category: CatClaimChanged, Path: p, Before: fullJSON(bv), After: fullJSON(cv)})
			}
		}
	}
}

// sameValue reports whether two decoded JSON values are equal (as their
// JSON would be), without encoding them; past a depth it compares JSON.
func sameValue(a, b any, depth int) bool {
	if depth > maxClaimDepth {
		return fullJSON(a) == fullJSON(b)
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y && math.Signbit(x) == math.Signbit(y) // JSON writes -0
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i], depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !sameValue(xv, yv, depth+1) {
				return false
			}
		}
		return true
	}
	return fullJSON(a) == fullJSON(b)
}

// pathKey is ".key", or `["key"]` when the key is not a plain name.
func pathKey(k string) string {
	plain := k != ""
	for i, r := range k {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return "." + k
	}
	return "[" + fullJSON(k) + "]"
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// show is a string value as shown in a diff: JSON-quoted; "" for none.
func show(s string) string {
	if s == "" {
		return ""
	}
	return fullJSON(s)
}

func showIf(s string, ok bool) string {
	if !ok {
		return ""
	}
	return fullJSON(s)
}

// jsonText is v as compact JSON; "" for nil.
func jsonText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case *workflow.DenySelection:
		if t == nil {
			return ""
		}
	case *workflow.DenyCancellation:
		if t == nil {
			return ""
		}
	}
	return fullJSON(v)
}

func fullJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// truncate cuts s to max runes, marking the cut with "…".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// redactor removes the secret variables' values, in every spelling the
// runtime's redaction knows, from what a report shows.
type redactor struct{ cfg *bindings.Config }

func newRedactor(env map[string]bindings.EnvVar) *redactor {
	return &redactor{cfg: &bindings.Config{Env: env}}
}

// show redacts s, then cuts it to n runes (redacting first, so a cut
// never leaves part of a secret behind).
func (r *redactor) show(s string, n int) string {
	if s == "" {
		return s
	}
	return truncate(strings.ToValidUTF8(bindings.RedactText(r.cfg, s), "\uFFFD"), n)
}
