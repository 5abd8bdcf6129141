// Package sampleevent holds a sample event for every trigger, in the shape
// the Kinde documentation gives (request + context, with
// context.workflow.trigger set): the console's Test page starts from one,
// and "flowgate event" prints one.
package sampleevent

import (
	"encoding/json"

	"github.com/flowgate/flowgate/internal/workflow"
)

// templates has one sample per trigger (TestEveryTrigger holds it to
// workflow.Triggers); JSON adds context.workflow.trigger.
var templates = map[string]map[string]any{
	workflow.UserTokenGeneration: {
		"request": map[string]any{"auth": map[string]any{"audience": []string{"https://api.example.com"}}, "ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		"context": map[string]any{
			"domains":      map[string]any{"kindeDomain": "https://example.kinde.com"},
			"auth":         map[string]any{"origin": "authorization_request", "isExistingSession": false, "connectionId": "conn_0123"},
			"application":  map[string]any{"clientId": "app_0123"},
			"user":         map[string]any{"id": "kp_0123", "identityId": "id_0123"},
			"organization": map[string]any{"code": "org_0123"},
		},
	},
	workflow.M2MTokenGeneration: {
		"request": map[string]any{"auth": map[string]any{"audience": []string{"https://api.example.com"}, "scope": []string{"read"}}, "ip": "203.0.113.7"},
		"context": map[string]any{"domains": map[string]any{"kindeDomain": "https://example.kinde.com"}, "application": map[string]any{"clientId": "m2m_0123"}},
	},
	workflow.PostAuthentication: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0",
			"authUrlParams": map[string]any{"state": "st_0123", "orgCode": "org_0123", "clientId": "app_0123", "redirectUri": "https://app.example.com/callback"}},
		"context": map[string]any{"auth": map[string]any{"connectionId": "conn_0123", "isNewUserRecordCreated": false},
			"user": map[string]any{"id": "kp_0123"}, "domains": map[string]any{"kindeDomain": "https://example.kinde.com"},
			"application": map[string]any{"clientId": "app_0123"}},
	},
	workflow.UserPreRegistration: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0", "authUrlParams": map[string]any{"state": "st_0123", "clientId": "app_0123"}},
		"context": map[string]any{"auth": map[string]any{"connectionId": "conn_0123"}, "domains": map[string]any{"kindeDomain": "https://example.kinde.com"},
			"application": map[string]any{"clientId": "app_0123"}},
	},
	workflow.UserPreMFA: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		"context": map[string]any{"auth": map[string]any{"connectionId": "conn_0123"}, "domains": map[string]any{"kindeDomain": "https://example.kinde.com"},
			"mfa": map[string]any{"policy": "optional", "context": "environment", "enabledFactors": []string{"mfa:email", "mfa:authenticator_app"},
				"isUserRoleExempt": false, "isUserConnectionExempt": false},
			"user": map[string]any{"id": "kp_0123"}, "application": map[string]any{"clientId": "app_0123"}, "organization": map[string]any{"code": "org_0123"}},
	},
	workflow.ExistingPasswordProvided: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		"context": map[string]any{"domains": map[string]any{"kindeDomain": "https://example.kinde.com"},
			"auth": map[string]any{"providedEmail": "ada@example.com", "password": "correct horse battery", "hashedPassword": "", "hasUserRecordInKinde": true},
			"user": map[string]any{"id": "kp_0123"}},
	},
	workflow.NewPasswordProvided: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		"context": map[string]any{"domains": map[string]any{"kindeDomain": "https://example.kinde.com"},
			"auth": map[string]any{"firstPassword": "correct horse battery", "secondPassword": "correct horse battery", "newPasswordReason": "initial"},
			"user": map[string]any{"email": "ada@example.com"}},
	},
	workflow.PlanSelection: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		"context": map[string]any{"domains": map[string]any{"kindeDomain": "https://example.kinde.com"},
			"billing": map[string]any{"currentPlanCode": "free", "requestedPlanCode": "pro"},
			"user":    map[string]any{"id": "kp_0123"}, "organization": map[string]any{"code": "org_0123"}},
	},
	workflow.PlanCancellationRequest: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		"context": map[string]any{"domains": map[string]any{"kindeDomain": "https://example.kinde.com"},
			"billing": map[string]any{"currentPlanCode": "pro", "agreementId": "agr_0123"}},
	},
	workflow.NewUsernameProvided: {
		"request": map[string]any{"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
		"context": map[string]any{"auth": map[string]any{"suppliedUsername": "ada"}, "domains": map[string]any{"kindeDomain": "https://example.kinde.com"}},
	},
}

// JSON returns the sample event for trigger as indented JSON; ok is false
// for a trigger Flowgate does not run.
func JSON(trigger string) (event string, ok bool) {
	t, ok := templates[trigger]
	if !ok {
		return "", false
	}
	ctx := map[string]any{}
	for k, v := range t["context"].(map[string]any) {
		ctx[k] = v
	}
	ctx["workflow"] = map[string]any{"trigger": trigger}
	b, err := json.MarshalIndent(map[string]any{"request": t["request"], "context": ctx}, "", "  ")
	if err != nil {
		panic(err) // the templates are plain maps, strings and slices
	}
	return string(b), true
}
