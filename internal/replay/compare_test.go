package replay

import (
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// TestCompare: each section of the Result gives its category and path;
// logs and durations give nothing.
func TestCompare(t *testing.T) {
	ok := func() *workflow.Result { return &workflow.Result{Status: workflow.StatusSucceeded} }
	with := func(f func(r *workflow.Result)) *workflow.Result { r := ok(); f(r); return r }
	cases := []struct {
		name       string
		base, cand *workflow.Result
		want       []string // "category path before → after"
	}{
		{"same", ok(), ok(), nil},
		{"logs and duration are not behaviour", ok(), with(func(r *workflow.Result) {
			r.Logs = []workflow.Log{{Level: "info", Message: "x"}}
			r.DurationMs = 99
		}), nil},
		{"nil results", nil, nil, nil},
		{"failure kind", with(func(r *workflow.Result) {
			r.Status, r.Error = workflow.StatusFailed, &workflow.Error{Kind: workflow.KindThrown, Message: "a"}
		}), with(func(r *workflow.Result) {
			r.Status, r.Error = workflow.StatusFailed, &workflow.Error{Kind: workflow.KindTimeout, Message: "b"}
		}), []string{"status status failed (thrown) → failed (timeout)"}},
		{"same kind, other message", with(func(r *workflow.Result) {
			r.Status, r.Error = workflow.StatusFailed, &workflow.Error{Kind: workflow.KindThrown, Message: "a"}
		}), with(func(r *workflow.Result) {
			r.Status, r.Error = workflow.StatusFailed, &workflow.Error{Kind: workflow.KindThrown, Message: "b"}
		}), nil},
		{"skipped", ok(), &workflow.Result{Status: workflow.StatusSkipped}, []string{"status status succeeded → skipped"}},
		{"denial vanishes", with(func(r *workflow.Result) { r.Auth = &workflow.Auth{Denied: true, Reason: "no"} }), ok(),
			[]string{`denial auth.denied true → false`, `denial auth.reason "no" → `}},
		{"plan", ok(), with(func(r *workflow.Result) {
			r.Plan = &workflow.Plan{DenySelection: &workflow.DenySelection{Message: "m", Reasons: []string{"r"}}}
		}), []string{`plan plan.denySelection  → {"message":"m","reasons":["r"]}`}},
		{"plan cancellation", with(func(r *workflow.Result) {
			r.Plan = &workflow.Plan{DenyCancellation: &workflow.DenyCancellation{Reason: "a"}}
		}),
			with(func(r *workflow.Result) {
				r.Plan = &workflow.Plan{DenyCancellation: &workflow.DenyCancellation{Reason: "b"}}
			}),
			[]string{`plan plan.denyCancellation {"reason":"a"} → {"reason":"b"}`}},
		{"form fields", with(func(r *workflow.Result) {
			r.Widget = &workflow.Widget{InvalidFormFields: map[string]string{"email": "bad", "p_password": "weak"}}
		}), with(func(r *workflow.Result) {
			r.Widget = &workflow.Widget{InvalidFormFields: map[string]string{"email": "bad", "p-name": "no"}}
		}), []string{`form widget.invalidFormFields["p-name"]  → "no"`, `form widget.invalidFormFields.p_password "weak" → `}},
		{"mfa", ok(), with(func(r *workflow.Result) { r.MFA = &workflow.MFA{EnforcementPolicy: "required"} }),
			[]string{`mfa mfa.enforcementPolicy  → "required"`}},
		{"sso and risk", ok(), with(func(r *workflow.Result) {
			r.SSOSession = &workflow.SSOSession{Policy: "persistent"}
			r.Risk = &workflow.Risk{Score: 0.5}
		}), []string{`other ssoSession.policy  → "persistent"`, `other risk.score  → 0.5`}},
		{"tokens", with(func(r *workflow.Result) {
			r.IDToken = &workflow.Token{CustomClaims: map[string]any{"a": 1.0, "o": map[string]any{"x": []any{1.0}}}}
			r.M2MToken = &workflow.Token{CustomClaims: map[string]any{"scope": "read"}}
		}), with(func(r *workflow.Result) {
			r.IDToken = &workflow.Token{CustomClaims: map[string]any{"a": "1", "o": map[string]any{"x": []any{1.0}, "y": nil}}, ResetClaims: true}
			r.M2MToken = &workflow.Token{CustomClaims: map[string]any{}}
		}), []string{`claim-changed idToken.resetClaims false → true`, `claim-changed idToken.a 1 → "1"`, `claim-added idToken.o.y  → null`,
			`claim-removed m2mToken.scope "read" → `}},
		{"a claim object becomes a value", with(func(r *workflow.Result) {
			r.AccessToken = &workflow.Token{CustomClaims: map[string]any{"k": map[string]any{"a": 1.0}}}
		}), with(func(r *workflow.Result) {
			r.AccessToken = &workflow.Token{CustomClaims: map[string]any{"k": []any{}}}
		}), []string{`claim-changed accessToken.k {"a":1} → []`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			compare(c.base, c.cand, func(d Diff) {
				got = append(got, string(d.Category)+" "+d.Path+" "+d.Before+" → "+d.After)
			})
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestCompareDeepClaims: claims nested past maxClaimDepth are compared as
// whole values, without recursing further.
func TestCompareDeepClaims(t *testing.T) {
	deep := func(leaf any) map[string]any {
		v := any(leaf)
		for range 5000 {
			v = map[string]any{"d": v}
		}
		return map[string]any{"c": v}
	}
	n := 0
	compare(&workflow.Result{AccessToken: &workflow.Token{CustomClaims: deep(1.0)}},
		&workflow.Result{AccessToken: &workflow.Token{CustomClaims: deep(2.0)}}, func(d Diff) {
			n++
			if strings.Count(d.Path, ".d") != maxClaimDepth {
				t.Errorf("path %.200s descends %d levels", d.Path, strings.Count(d.Path, ".d"))
			}
		})
	if n != 1 {
		t.Errorf("%d diffs, want 1", n)
	}
}
