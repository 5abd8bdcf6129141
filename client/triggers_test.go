package client_test

import (
	"testing"

	"github.com/flowgate/flowgate/client"
	"github.com/flowgate/flowgate/internal/workflow"
)

// TestTriggerConstantsAreTriggers: the client's trigger names are the
// service's (workflow.TriggerSpecs), spelled the same.
func TestTriggerConstantsAreTriggers(t *testing.T) {
	for _, tr := range []string{
		client.TriggerTokensGeneration, client.TriggerM2MTokenGeneration, client.TriggerPreRegistration,
		client.TriggerPostAuthentication, client.TriggerNewPasswordProvided, client.TriggerExistingPasswordProvided,
		client.TriggerPreMFA, client.TriggerNewUsernameProvided, client.TriggerPlanSelection, client.TriggerPlanCancellationRequest,
	} {
		if !workflow.IsTrigger(tr) {
			t.Errorf("client trigger %q is not in workflow.TriggerSpecs", tr)
		}
	}
}
