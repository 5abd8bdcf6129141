package kratos_test

import (
	"encoding/json"
	"testing"

	"github.com/flowgate/flowgate/internal/adapters/kratos"
)

// FuzzEvent: whatever a web hook posts, each hook's event is one JSON
// object, or a refusal naming the password field.
func FuzzEvent(f *testing.F) {
	f.Add(`{"flow":{"id":"f","request_url":"http://k.test/self-service/login/browser?return_to=x&client_id=c","active":"password","transient_payload":{"password":"pw123456"}},"identity":{"id":"i","traits":{"email":"a@b.test"}},"request_headers":{"User-Agent":["ua"],"True-Client-Ip":["1.2.3.4"]}}`)
	f.Add(`{"flow":{"oauth2_login_request":{"client":{"client_id":"c"}}},"identity":null}`)
	f.Add(`{"flow":{"request_url":"%zz"},"identity":{"traits":{"email":7}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		var b kratos.HookBody
		if json.Unmarshal([]byte(body), &b) != nil {
			return
		}
		for hook := range kratos.Hooks {
			event, field, err := kratos.Event(hook, &b)
			if err != nil {
				if field != "#/password" {
					t.Fatalf("%s: refusal on %q: %v", hook, field, err)
				}
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(event, &m); err != nil || m["context"] == nil {
				t.Fatalf("%s: event %s: %v", hook, event, err)
			}
		}
	})
}
