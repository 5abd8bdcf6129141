package workflow

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// TestRegistry: the trigger and binding tables are consistent — names and
// members unique, Enum a permutation, every allowed binding known and not
// already allowed everywhere, a helper at most once per binding, and a
// sample event for every trigger.
func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	enum := map[int]bool{}
	for _, tr := range TriggerSpecs {
		if seen[tr.Name] || seen[tr.Member] {
			t.Errorf("trigger %q (member %q) listed twice", tr.Name, tr.Member)
		}
		seen[tr.Name], seen[tr.Member] = true, true
		if tr.Enum < 0 || tr.Enum >= len(TriggerSpecs) || enum[tr.Enum] {
			t.Errorf("trigger %q: Enum %d is not a free position 0..%d", tr.Name, tr.Enum, len(TriggerSpecs)-1)
		}
		enum[tr.Enum] = true
		if got, ok := TriggerByMember(tr.Member); !ok || got.Name != tr.Name {
			t.Errorf("TriggerByMember(%q) = %v, %v", tr.Member, got, ok)
		}
		if tr.When == "" {
			t.Errorf("trigger %q: no When", tr.Name)
		}
		for _, b := range tr.Allows {
			i := slices.IndexFunc(BindingSpecs, func(s BindingSpec) bool { return s.Name == b })
			if i < 0 {
				t.Errorf("trigger %q allows %q, which is not in BindingSpecs", tr.Name, b)
			} else if BindingSpecs[i].Everywhere {
				t.Errorf("trigger %q lists %q, which every trigger allows", tr.Name, b)
			}
		}
		if _, ok := Sample(tr.Name); !ok {
			t.Errorf("trigger %q has no sample event: add internal/workflow/events/%s.json", tr.Name, strings.ReplaceAll(tr.Name, ":", "_"))
		}
	}
	for _, b := range BindingSpecs {
		if seen[b.Name] {
			t.Errorf("binding %q listed twice", b.Name)
		}
		seen[b.Name] = true
		if b.Doc == "" {
			t.Errorf("binding %q: no Doc", b.Name)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(b.Helpers)))) != len(b.Helpers) {
			t.Errorf("binding %q: a helper listed twice", b.Name)
		}
	}
	if got := HelperBindings("createKindeAPI"); !slices.Equal(got, []string{BindEnv, BindFetch}) {
		t.Errorf("HelperBindings(createKindeAPI) = %v", got)
	}
	if HelperBindings("toString") != nil || HelperBindings("") != nil {
		t.Error("HelperBindings of a name no helper has is not nil")
	}
	if _, ok := Sample("../workflow"); ok {
		t.Error("Sample read a file for an unknown trigger")
	}
}

// TestTriggersDocumented: docs/workflows.md's trigger table has a row for
// every trigger whose "when" is the table's When.
func TestTriggersDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "workflows.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range TriggerSpecs {
		row := "| `" + tr.Name + "` | " + tr.When + " |"
		if !strings.Contains(string(b), row) {
			t.Errorf("docs/workflows.md has no row starting %q: add it to the trigger table, or make When and the row say the same", row)
		}
	}
}
