package kratos_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/adapters/kratos"
	"github.com/flowgate/flowgate/internal/workflow"
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

type fixedRuntime struct{ res *workflow.Result }

func (fixedRuntime) RuntimeTokenOK(context.Context, string, string) (bool, error) { return true, nil }
func (f fixedRuntime) Invoke(context.Context, string, string, []byte) (*workflow.Result, error) {
	return f.res, nil
}

// BenchmarkHandler is a web hook's cost on top of the invocation, for a
// password the workflow refuses (the longest answer).
func BenchmarkHandler(b *testing.B) {
	rt := fixedRuntime{&workflow.Result{Status: "succeeded", FailurePolicy: "stop",
		Widget: &workflow.Widget{InvalidFormFields: map[string]string{"p_first_password": "Add a digit."}}}}
	h := kratos.New(rt, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const body = `{"flow":{"id":"f1","type":"api","request_url":"http://kratos.test/self-service/registration/api","active":"password","transient_payload":{"password":"correct horse"}},"identity":{"id":"i1","traits":{"email":"a@b.test"}},"request_headers":{"User-Agent":["ua"],"Accept":["application/json"]},"request_url":"http://kratos.test/self-service/registration?flow=f1","request_method":"POST"}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/environments/production/adapters/kratos/registration-password", strings.NewReader(body))
		req.SetPathValue("env", "production")
		req.SetPathValue("hook", "registration-password")
		req.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 403 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
