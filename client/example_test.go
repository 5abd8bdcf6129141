package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flowgate/flowgate/client"
)

// An auth server issuing user tokens asks Flowgate first, then adds the
// claims the workflow set (or refuses with its message).
func ExampleClient_Trigger() {
	fgc := client.New(fg.URL, fg.RuntimeToken, client.WithTimeout(2*time.Second))
	res, err := fgc.Trigger(context.Background(), "production", client.TriggerTokensGeneration, client.Event{
		Request: client.Request{IP: "203.0.113.7", Auth: &client.RequestAuth{Audience: []string{"api"}}},
		Context: client.Context{
			User:         &client.User{ID: "kp_0123"},
			Organization: &client.Organization{Code: "org_acme"},
			Application:  &client.Application{ClientID: "web"},
		},
	})
	if err != nil {
		fmt.Println("misconfigured:", err)
		return
	}
	d := res.Decide()
	if !d.Allow {
		fmt.Println("refuse:", d.Message)
		return
	}
	fmt.Println("access token claims:", d.AccessTokenClaims)
	fmt.Println("ID token claims:", d.IDTokenClaims)
	// Output:
	// access token claims: map[plan:pro]
	// ID token claims: map[org:org_acme]
}

// A denial refuses the flow with the workflow's message.
func ExampleClient_Trigger_denied() {
	fgc := client.New(fg.URL, fg.RuntimeToken)
	res, _ := fgc.Trigger(context.Background(), "production", client.TriggerTokensGeneration, client.Event{
		Context: client.Context{User: &client.User{ID: "banned-42"}},
	})
	d := res.Decide()
	fmt.Println(d.Allow, d.Message)
	// Output: false This account is suspended.
}

// Decide covers every Result: here a password the workflow rejected.
func ExampleResult_Decide() {
	var res client.Result
	_ = json.Unmarshal([]byte(`{"status": "succeeded", "trigger": "user:new_password_provided",
		"widget": {"invalidFormFields": {"p_first_password": "Use at least one digit."}}}`), &res)
	d := res.Decide()
	fmt.Println(d.Allow, d.FieldErrors["p_first_password"])

	var failed client.Result
	_ = json.Unmarshal([]byte(`{"status": "failed", "failurePolicy": "continue",
		"error": {"kind": "thrown", "message": "boom"}}`), &failed)
	d = failed.Decide()
	fmt.Println(d.Allow, d.Failed)
	// Output:
	// false Use at least one digit.
	// true true
}
