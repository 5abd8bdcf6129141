package kratos_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/adapters/adapterstest"
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
	cpu := adapterstest.CPUTime()
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
	b.ReportMetric(float64((adapterstest.CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// TestAnswers: each Result becomes Kratos' answer, on the right field.
func TestAnswers(t *testing.T) {
	const withEmail = `{"flow":{"transient_payload":{"password":"pw-123456"}},"identity":{"id":"i1","traits":{"email":"a@b.test"}}}`
	const noEmail = `{"identity":{"id":"i1","traits":{"username":"ada"}}}`
	cases := []struct {
		name, hook, body string
		res              *workflow.Result
		status           int
		want             string
	}{
		{"denied registration: on the email field", "registration", withEmail,
			&workflow.Result{Status: "succeeded", Auth: &workflow.Auth{Denied: true, Reason: "Closed."}}, 403,
			`{"messages":[{"instance_ptr":"#/traits/email","messages":[{"id":4000001,"text":"Closed.","type":"error","context":{"reason":"Closed."}}]}]}`},
		{"denied registration without an email trait: on the form", "registration", noEmail,
			&workflow.Result{Status: "succeeded", Auth: &workflow.Auth{Denied: true}}, 403,
			`{"messages":[{"instance_ptr":"#/","messages":[{"id":4000001,"text":"Access denied.","type":"error","context":{"reason":"Access denied."}}]}]}`},
		{"denied login: on the form", "login", withEmail,
			&workflow.Result{Status: "succeeded", Auth: &workflow.Auth{Denied: true, Reason: "Locked."}}, 403,
			`"instance_ptr":"#/"`},
		{"widget fields: each on its Kratos field, sorted", "registration-password", withEmail,
			&workflow.Result{Status: "succeeded", Widget: &workflow.Widget{InvalidFormFields: map[string]string{
				"p_second_password": "B", "p_first_password": "A", "p_username": "C"}}}, 403,
			`{"messages":[{"instance_ptr":"#/password","messages":[{"id":4000001,"text":"A","type":"error","context":{"reason":"A"}},{"id":4000001,"text":"B","type":"error","context":{"reason":"B"}}]},{"instance_ptr":"#/traits/username","messages":[{"id":4000001,"text":"C","type":"error","context":{"reason":"C"}}]}]}`},
		{"failed, stop: a generic message, not the error", "login", withEmail,
			&workflow.Result{Status: "failed", FailurePolicy: "stop", Error: &workflow.Error{Kind: "thrown", Message: "secret detail"}}, kratos.StatusFailed,
			`Please try again later.`},
		{"failed, continue", "login", withEmail, &workflow.Result{Status: "failed", FailurePolicy: "continue"}, 204, ``},
		{"allowed", "login", withEmail, &workflow.Result{Status: "succeeded"}, 204, ``},
		{"skipped", "registration", withEmail, &workflow.Result{Status: "skipped"}, 204, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := kratos.New(fixedRuntime{tc.res}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			req := httptest.NewRequest("POST", "/x", strings.NewReader(tc.body))
			req.SetPathValue("env", "production")
			req.SetPathValue("hook", tc.hook)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			body := strings.TrimSpace(w.Body.String())
			if w.Code != tc.status || !strings.Contains(body, tc.want) || strings.Contains(body, "secret detail") {
				t.Fatalf("got %d %s, want %d %s", w.Code, body, tc.status, tc.want)
			}
		})
	}
}
