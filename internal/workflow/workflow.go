// Package workflow holds the vocabulary every other package shares: the
// triggers, the bindings, which bindings each trigger allows, and the
// settings a workflow exports. It has no dependencies so that project,
// bundle, runtime and bindings can all speak it.
package workflow

import "slices"

// Trigger strings exactly as Kinde and @kinde/infrastructure spell them.
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

// Triggers lists every trigger Flowgate runs, in documentation order.
var Triggers = []string{
	UserPreRegistration, PostAuthentication, M2MTokenGeneration, NewPasswordProvided,
	ExistingPasswordProvided, UserTokenGeneration, UserPreMFA, PlanSelection,
	PlanCancellationRequest, NewUsernameProvided,
}

// IsTrigger reports whether t is a known trigger.
func IsTrigger(t string) bool { return slices.Contains(Triggers, t) }

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

// Bindings lists every binding name Flowgate knows.
var Bindings = []string{
	BindAccessToken, BindIDToken, BindM2MToken, BindAuth, BindEnv, BindFetch, BindSecureFetch,
	BindMFA, BindPlan, BindWidget, BindLocalization, BindSSOSession, BindRisk, BindURL, BindConsole,
}

// IsBinding reports whether name is a binding Flowgate knows.
func IsBinding(name string) bool { return slices.Contains(Bindings, name) }

// everywhere are the bindings every trigger allows (docs/coming-from-kinde.md;
// console is always allowed, localization/risk are harmless everywhere).
var everywhere = []string{BindEnv, BindFetch, BindSecureFetch, BindURL, BindConsole, BindLocalization, BindRisk}

// allowed is the per-trigger table of docs/coming-from-kinde.md, beyond everywhere.
var allowed = map[string][]string{
	UserPreRegistration:      {BindAuth},
	PostAuthentication:       {BindAuth},
	M2MTokenGeneration:       {BindM2MToken},
	NewPasswordProvided:      {BindAuth, BindWidget},
	ExistingPasswordProvided: {BindAuth, BindWidget},
	UserTokenGeneration:      {BindAccessToken, BindIDToken, BindAuth, BindSSOSession},
	UserPreMFA:               {BindAuth, BindMFA},
	PlanSelection:            {BindPlan},
	PlanCancellationRequest:  {BindPlan},
	NewUsernameProvided:      {BindAuth, BindWidget},
}

// Allowed reports whether trigger may use binding.
func Allowed(trigger, binding string) bool {
	return slices.Contains(everywhere, binding) || slices.Contains(allowed[trigger], binding)
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

// PasswordFields are the event paths (under context.auth) that carry
// passwords on the password triggers; they are redacted from logs.
var PasswordFields = []string{"password", "hashedPassword", "firstPassword", "secondPassword"}
