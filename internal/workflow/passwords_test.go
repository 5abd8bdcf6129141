package workflow

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestPasswords(t *testing.T) {
	cases := []struct {
		name  string
		event string
		want  []string
	}{
		{"new password", `{"context": {"auth": {"firstPassword": "hunter22", "secondPassword": "hunter22"}}}`, []string{"hunter22"}},
		{"every field", `{"context": {"auth": {"password": "p1x", "hashedPassword": "h2y", "firstPassword": "f3z", "secondPassword": "s4w"}}}`, []string{"p1x", "h2y", "f3z", "s4w"}},
		{"not strings", `{"context": {"auth": {"password": 12345, "firstPassword": {"x": "y"}}}}`, nil},
		{"empty", `{"context": {"auth": {"password": ""}}}`, nil},
		{"other fields ignored", `{"context": {"auth": {"connectionId": "conn_1"}, "user": {"password": "nope"}}}`, nil},
		{"no auth", `{"request": {}}`, nil},
		{"not JSON", `{"context":`, nil},
		{"not an object", `[1, 2]`, nil},
		{"auth not an object", `{"context": {"auth": "password"}}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Passwords([]byte(c.event)); !slices.Equal(got, c.want) {
				t.Errorf("Passwords = %q, want %q", got, c.want)
			}
		})
	}
}

// TestRedactStrings: every string a workflow can write into a Result loses
// the password, raw and JSON-escaped; short values and other text stay.
func TestRedactStrings(t *testing.T) {
	pw := `s3cr"et\pw`
	esc := `s3cr\"et\\pw`
	res := &Result{
		Error: &Error{Kind: KindThrown, Message: "bad " + pw, Stack: "Error: bad " + pw + "\n    at x (a.ts:1:2)"},
		Logs: []Log{{Level: "info", Message: `{"p":"` + esc + `"}`}, {Level: "warn", Message: "fine"},
			{Level: "info", Message: "GET https://x.example/?p=" + url.QueryEscape(pw)}, {Level: "info", Message: "/u/" + url.PathEscape(pw)}},
		AccessToken: &Token{CustomClaims: map[string]any{"k": pw, "n": 3.0, "list": []any{pw, map[string]any{pw: "v " + pw}}}},
		Auth:        &Auth{Denied: true, Reason: "reason " + pw},
		Plan:        &Plan{DenySelection: &DenySelection{Message: pw, Reasons: []string{pw}}, DenyCancellation: &DenyCancellation{Reason: pw}},
		Widget:      &Widget{InvalidFormFields: map[string]string{"p_password": pw + " is weak"}},
	}
	res.RedactStrings([]string{pw, "ab"})
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cr") || strings.Contains(string(out), "et%5C") {
		t.Errorf("password left in %s", out)
	}
	for _, want := range []string{`"p_password":"*** is weak"`, `"reason ***"`, `"fine"`, `"n":3`, `"***":"v ***"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s lacks %s", out, want)
		}
	}

	short := &Result{Logs: []Log{{Message: "ab cd"}}}
	short.RedactStrings([]string{"ab"})
	if short.Logs[0].Message != "ab cd" {
		t.Errorf("a 2-character value was redacted: %q", short.Logs[0].Message)
	}
	var none *Result
	none.RedactStrings([]string{pw}) // must not panic
}

func TestOutcomes(t *testing.T) {
	if r := Skipped(PlanSelection); r.Status != StatusSkipped || r.Trigger != PlanSelection || r.Error != nil || r.WorkflowID != "" {
		t.Errorf("Skipped = %+v", r)
	}
	s := Settings{ID: "w", Trigger: UserPreMFA, FailurePolicy: FailurePolicy{Action: "continue"}}
	r := LoadFailed(s, errString("bundle.ts:1:2: unexpected token"))
	if r.Status != StatusFailed || r.Error.Kind != KindLoad || r.Error.Message != "bundle.ts:1:2: unexpected token" ||
		r.WorkflowID != "w" || r.Trigger != UserPreMFA || r.FailurePolicy != "continue" {
		t.Errorf("LoadFailed = %+v %+v", r, r.Error)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
