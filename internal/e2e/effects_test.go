package e2e

import (
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// TestEffectHelpers: each library helper that changes the auth flow, on
// the trigger that allows it, and the run where it is not called.
func TestEffectHelpers(t *testing.T) {
	r := checkRepo(t, "effects")
	cases := []struct {
		name, id, event string
		redact          []string
		check           func(t *testing.T, res *workflow.Result)
	}{
		{"denyAccess", "postAuth", `{"context": {"auth": {"isNewUserRecordCreated": false}, "user": {"id": "kp_1"}}}`, nil,
			func(t *testing.T, res *workflow.Result) {
				if asJSON(t, res.Auth) != `{"denied":true,"reason":"existing users must use SSO"}` {
					t.Errorf("auth %s", asJSON(t, res.Auth))
				}
			}},
		{"no denial", "postAuth", `{"context": {"auth": {"isNewUserRecordCreated": true}, "user": {"id": "kp_1"}}}`, nil,
			func(t *testing.T, res *workflow.Result) {
				if res.Auth != nil && res.Auth.Denied {
					t.Errorf("auth %s", asJSON(t, res.Auth))
				}
			}},
		{"setEnforcementPolicy required", "preMfa", `{"context": {"organization": {"code": "org_secure"}}}`, nil,
			func(t *testing.T, res *workflow.Result) {
				if asJSON(t, res.MFA) != `{"enforcementPolicy":"required"}` {
					t.Errorf("mfa %s", asJSON(t, res.MFA))
				}
			}},
		{"setEnforcementPolicy skip", "preMfa", `{"context": {}}`, nil,
			func(t *testing.T, res *workflow.Result) {
				if asJSON(t, res.MFA) != `{"enforcementPolicy":"skip"}` {
					t.Errorf("mfa %s", asJSON(t, res.MFA))
				}
			}},
		{"denyPlanSelection", "planSelection", `{"context": {"billing": {"currentPlanCode": "free", "requestedPlanCode": "legacy"}}}`, nil,
			func(t *testing.T, res *workflow.Result) {
				if asJSON(t, res.Plan) != `{"denySelection":{"message":"The legacy plan is closed","reasons":["Choose pro","Choose team"]}}` {
					t.Errorf("plan %s", asJSON(t, res.Plan))
				}
			}},
		{"plan allowed", "planSelection", `{"context": {"billing": {"currentPlanCode": "free", "requestedPlanCode": "pro"}}}`, nil,
			func(t *testing.T, res *workflow.Result) {
				if res.Plan != nil && res.Plan.DenySelection != nil {
					t.Errorf("plan %s", asJSON(t, res.Plan))
				}
			}},
		{"denyPlanCancellation", "planCancellation", `{"context": {"billing": {"currentPlanCode": "pro", "agreementId": "agr_1"}}}`, nil,
			func(t *testing.T, res *workflow.Result) {
				if asJSON(t, res.Plan) != `{"denyCancellation":{"reason":"Plan pro has an open invoice"}}` {
					t.Errorf("plan %s", asJSON(t, res.Plan))
				}
			}},
		{"invalidateFormField", "newPassword", `{"context": {"auth": {"firstPassword": "no-digits-here", "secondPassword": "no-digits-here", "newPasswordReason": "initial"}}}`,
			[]string{"no-digits-here"},
			func(t *testing.T, res *workflow.Result) {
				if asJSON(t, res.Widget) != `{"invalidFormFields":{"p_first_password":"Include a digit"}}` {
					t.Errorf("widget %s", asJSON(t, res.Widget))
				}
				if got := logLines(res); got != "info: first=*** second=***\n" {
					t.Errorf("password not redacted: %q", got)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := r.run(t, c.id, c.event, &bindings.Config{Redact: c.redact})
			mustSucceed(t, res)
			c.check(t, res)
		})
	}
}
