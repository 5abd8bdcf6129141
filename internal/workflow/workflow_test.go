package workflow

import (
	"slices"
	"testing"
)

// The per-trigger table of docs/coming-from-kinde.md, with console, localization
// and risk allowed everywhere, ssoSession on tokens_generation, and
// new_username_provided allowing the widget like the password triggers.
func TestAllowedBindings(t *testing.T) {
	common := []string{BindEnv, BindFetch, BindSecureFetch, BindLocalization, BindRisk, BindURL, BindConsole}
	tests := []struct {
		trigger string
		extra   []string
	}{
		{UserPreRegistration, []string{BindAuth}},
		{PostAuthentication, []string{BindAuth}},
		{M2MTokenGeneration, []string{BindM2MToken}},
		{NewPasswordProvided, []string{BindAuth, BindWidget}},
		{ExistingPasswordProvided, []string{BindAuth, BindWidget}},
		{UserTokenGeneration, []string{BindAccessToken, BindIDToken, BindAuth, BindSSOSession}},
		{UserPreMFA, []string{BindAuth, BindMFA}},
		{PlanSelection, []string{BindPlan}},
		{PlanCancellationRequest, []string{BindPlan}},
		{NewUsernameProvided, []string{BindAuth, BindWidget}},
	}
	if len(tests) != len(Triggers) {
		t.Fatalf("table covers %d triggers, Triggers has %d", len(tests), len(Triggers))
	}
	for _, tt := range tests {
		t.Run(tt.trigger, func(t *testing.T) {
			want := append(slices.Clone(common), tt.extra...)
			for _, b := range Bindings {
				if got := Allowed(tt.trigger, b); got != slices.Contains(want, b) {
					t.Errorf("Allowed(%q, %q) = %v, want %v", tt.trigger, b, got, !got)
				}
			}
			if got := AllowedBindings(tt.trigger); len(got) != len(want) {
				t.Errorf("AllowedBindings(%q) = %v, want %d bindings", tt.trigger, got, len(want))
			}
		})
	}
}

func TestUnknownTriggerAllowsOnlyCommonBindings(t *testing.T) {
	if Allowed("user:tokens_generated", BindAccessToken) {
		t.Error("an unknown trigger allowed kinde.accessToken")
	}
	if !Allowed("user:tokens_generated", BindConsole) {
		t.Error("console must be allowed everywhere")
	}
}

func TestIsTriggerAndIsBinding(t *testing.T) {
	for _, tr := range Triggers {
		if !IsTrigger(tr) {
			t.Errorf("IsTrigger(%q) = false", tr)
		}
	}
	for _, bad := range []string{"", "m2m:tokens_generation", "onTokenGeneration", "USER:PRE_MFA"} {
		if IsTrigger(bad) {
			t.Errorf("IsTrigger(%q) = true", bad)
		}
	}
	if IsBinding("kinde.cache") || !IsBinding("url") {
		t.Error("IsBinding: kinde.cache is implicit, url is a binding")
	}
}

func TestPolicyAndDeclares(t *testing.T) {
	s := Settings{Bindings: map[string]BindingSettings{BindEnv: {}}}
	if s.Policy() != "stop" {
		t.Errorf("default policy = %q, want stop", s.Policy())
	}
	s.FailurePolicy.Action = "continue"
	if s.Policy() != "continue" {
		t.Errorf("policy = %q, want continue", s.Policy())
	}
	if !s.Declares(BindEnv) || s.Declares(BindFetch) {
		t.Error("Declares does not follow the bindings map")
	}
}
