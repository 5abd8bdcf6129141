// Package workflow holds the vocabulary every other package shares: the
// triggers, the bindings, which bindings each trigger allows, and the
// settings a workflow exports. It has no dependencies so that project,
// bundle, runtime and bindings can all speak it.
//
// TriggerSpecs and BindingSpecs are the one table of triggers and
// bindings: every list of them elsewhere (validation, suggestions, the
// WorkflowTrigger members, sample events, the CLI's help) is read from
// here. Adding a trigger is a line in TriggerSpecs plus its sample event
// in events/; adding a binding is a line in BindingSpecs plus its
// implementation in internal/bindings.
package workflow

import (
	"embed"
	"slices"
	"strings"
)

// Trigger strings exactly as Kinde and @kinde/infrastructure spell them,
// for the code that handles one trigger in particular.
const (
	UserTokenGeneration      = "user:tokens_generation"
	UserPreMFA               = "user:pre_mfa"
	PostAuthentication       = "user:post_authentication"
	M2MTokenGeneration       = "m2m:token_generation"
	ExistingPasswordProvided = "user:existing_password_provided"
	NewPasswordProvided      = "user:new_password_provided"
	PlanSelection            = "user:plan_selection"
	PlanCancellationRequest  = "user:plan_cancellation_request"
	UserPreRegistration      = "user:pre_registration"
	NewUsernameProvided      = "user:new_username_provided"
)

// Binding names as declared in workflowSettings.bindings.
const (
	BindAccessToken  = "kinde.accessToken"
	BindIDToken      = "kinde.idToken"
	BindM2MToken     = "kinde.m2mToken"
	BindAuth         = "kinde.auth"
	BindEnv          = "kinde.env"
	BindFetch        = "kinde.fetch"
	BindSecureFetch  = "kinde.secureFetch"
	BindMFA          = "kinde.mfa"
	BindPlan         = "kinde.plan"
	BindWidget       = "kinde.widget"
	BindLocalization = "kinde.localization"
	BindSSOSession   = "kinde.ssoSession"
	BindRisk         = "kinde.risk"
	BindURL          = "url"
	BindConsole      = "console"
)

// TriggerSpec is one trigger Flowgate runs.
type TriggerSpec struct {
	Name   string   // as Kinde spells it: "user:tokens_generation"
	Member string   // its WorkflowTrigger member in @kinde/infrastructure
	Enum   int      // the member's position in that enum (messages list members in this order)
	When   string   // when the auth server calls it (docs/workflows.md)
	Allows []string // the bindings it allows beyond those every trigger allows
}

// TriggerSpecs is every trigger, in documentation order. Each has a sample
// event in events/<name with ':' as '_'>.json (TestEveryTriggerHasASample).
var TriggerSpecs = []TriggerSpec{
	{UserPreRegistration, "UserPreRegistration", 8, "after first-factor auth, before the user record is created", []string{BindAuth}},
	{PostAuthentication, "PostAuthentication", 2, "after first-factor auth, before organization and MFA checks", []string{BindAuth}},
	{M2MTokenGeneration, "M2MTokenGeneration", 3, "a machine-to-machine token is issued", []string{BindM2MToken}},
	{NewPasswordProvided, "NewPasswordProvided", 5, "a user sets a password at sign-up or reset", []string{BindAuth, BindWidget}},
	{ExistingPasswordProvided, "ExistingPasswordProvided", 4, "a user enters their password", []string{BindAuth, BindWidget}},
	{UserTokenGeneration, "UserTokenGeneration", 0, "user tokens are issued (sign-in, silent return, refresh)", []string{BindAccessToken, BindIDToken, BindAuth, BindSSOSession}},
	{UserPreMFA, "UserPreMFA", 1, "after first-factor auth, before the MFA step", []string{BindAuth, BindMFA}},
	{PlanSelection, "PlanSelection", 6, "a user changes plan (portal or API)", []string{BindPlan}},
	{PlanCancellationRequest, "PlanCancellationRequest", 7, "a user asks to cancel a plan", []string{BindPlan}},
	{NewUsernameProvided, "NewUsernameProvided", 9, "a user chooses a username", []string{BindAuth, BindWidget}},
}

// BindingSpec is one binding a workflow may declare.
type BindingSpec struct {
	Name       string
	Everywhere bool     // every trigger allows it
	Doc        string   // what it gives the workflow
	Helpers    []string // the @kinde/infrastructure functions that call it
}

// BindingSpecs is every binding Flowgate knows (docs/workflows.md,
// "Bindings"; console is always allowed, localization and risk are harmless
// everywhere).
var BindingSpecs = []BindingSpec{
	{BindAccessToken, false, "custom claims of the user's access token", []string{"accessTokenCustomClaims"}},
	{BindIDToken, false, "custom claims of the user's ID token", []string{"idTokenCustomClaims"}},
	{BindM2MToken, false, "custom claims of the machine-to-machine token", []string{"m2mTokenClaims"}},
	{BindAuth, false, "denyAccess: stop the auth flow with a reason", []string{"denyAccess"}},
	{BindEnv, true, "the environment's variables (secrets opened)", []string{"getEnvironmentVariable", "createKindeAPI"}},
	{BindFetch, true, "outbound HTTP, with kinde.cache", []string{"fetch", "getM2MToken", "createKindeAPI"}},
	{BindSecureFetch, true, "outbound HTTP with an encrypted body, with kinde.cache", []string{"secureFetch"}},
	{BindMFA, false, "setEnforcementPolicy: require, skip or allow MFA", []string{"setEnforcementPolicy"}},
	{BindPlan, false, "deny a plan selection or cancellation", []string{"denyPlanSelection", "denyPlanCancellation"}},
	{BindWidget, false, "invalidateFormField: an error on a form field", []string{"invalidateFormField"}},
	{BindLocalization, true, "the user's locale strings", []string{"getLocalization"}},
	{BindSSOSession, false, "setPolicy: the SSO session's policy", nil},
	{BindRisk, true, "a risk score set and read within the run", nil},
	{BindURL, true, "the WHATWG URL and URLSearchParams classes", nil},
	{BindConsole, true, "console.log and friends, into the run's logs", nil},
}

// Triggers lists every trigger Flowgate runs, in documentation order.
var Triggers = names(TriggerSpecs, func(t TriggerSpec) string { return t.Name })

// Bindings lists every binding name Flowgate knows.
var Bindings = names(BindingSpecs, func(b BindingSpec) string { return b.Name })

func names[T any](specs []T, name func(T) string) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = name(s)
	}
	return out
}

// HelperBindings returns the bindings the @kinde/infrastructure function
// helper calls, in BindingSpecs order; nil for any other name.
func HelperBindings(helper string) []string {
	var out []string
	for _, b := range BindingSpecs {
		if slices.Contains(b.Helpers, helper) {
			out = append(out, b.Name)
		}
	}
	return out
}

// IsTrigger reports whether t is a known trigger.
func IsTrigger(t string) bool { return slices.Contains(Triggers, t) }

// IsBinding reports whether name is a binding Flowgate knows.
func IsBinding(name string) bool { return slices.Contains(Bindings, name) }

// TriggerByMember returns the trigger of a WorkflowTrigger member.
func TriggerByMember(member string) (TriggerSpec, bool) {
	i := slices.IndexFunc(TriggerSpecs, func(t TriggerSpec) bool { return t.Member == member })
	if i < 0 {
		return TriggerSpec{}, false
	}
	return TriggerSpecs[i], true
}

// Members lists the WorkflowTrigger members in the library's enum order.
var Members = func() []string {
	out := make([]string, len(TriggerSpecs))
	for _, t := range TriggerSpecs {
		out[t.Enum] = t.Member
	}
	return out
}()

// Allowed reports whether trigger may use binding.
func Allowed(trigger, binding string) bool {
	i := slices.IndexFunc(BindingSpecs, func(b BindingSpec) bool { return b.Name == binding })
	if i >= 0 && BindingSpecs[i].Everywhere {
		return true
	}
	j := slices.IndexFunc(TriggerSpecs, func(t TriggerSpec) bool { return t.Name == trigger })
	return i >= 0 && j >= 0 && slices.Contains(TriggerSpecs[j].Allows, binding)
}

// AllowedBindings lists the bindings a trigger may declare.
func AllowedBindings(trigger string) []string {
	var out []string
	for _, b := range Bindings {
		if Allowed(trigger, b) {
			out = append(out, b)
		}
	}
	return out
}

//go:embed events/*.json
var samples embed.FS

// Sample returns the sample event of trigger (request and context, in the
// shape the Kinde documentation gives); ok is false for an unknown trigger.
func Sample(trigger string) (event []byte, ok bool) {
	if !IsTrigger(trigger) {
		return nil, false
	}
	b, err := samples.ReadFile("events/" + strings.ReplaceAll(trigger, ":", "_") + ".json")
	return b, err == nil
}

// PasswordFields are the event paths (under context.auth) that carry
// passwords on the password triggers; they are redacted from logs.
var PasswordFields = []string{"password", "hashedPassword", "firstPassword", "secondPassword"}
