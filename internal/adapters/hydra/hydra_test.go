package hydra_test

import (
	"encoding/json"
	"testing"

	"github.com/flowgate/flowgate/internal/adapters/hydra"
)

// FuzzEvent: whatever Hydra (or anyone holding the key) posts, the event is
// one JSON object for a trigger the adapter knows.
func FuzzEvent(f *testing.F) {
	f.Add(`{"session":{"extra":{"a":1},"id_token":{"id_token_claims":{"ext":{"b":2}},"subject":"u"}},"request":{"client_id":"c","grant_types":["authorization_code"],"requested_scopes":["openid"]}}`)
	f.Add(`{"request":{"grant_types":["client_credentials"],"granted_scopes":["x"],"granted_audience":["api"]}}`)
	f.Add(`{"session":{"id_token":null},"request":{"grant_types":[]}}`)
	f.Fuzz(func(t *testing.T, body string) {
		var req hydra.HookRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		trigger, event := hydra.Event(&req)
		var m map[string]any
		if err := json.Unmarshal(event, &m); err != nil || m["request"] == nil || m["context"] == nil {
			t.Fatalf("event %s: %v", event, err)
		}
		if trigger != "user:tokens_generation" && trigger != "m2m:token_generation" {
			t.Fatalf("trigger %q", trigger)
		}
	})
}
