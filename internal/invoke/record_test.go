package invoke

import (
	"context"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/outbound"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// TestRecordPassesThroughRedacted: Record reaches the runner, and the
// recorded answers come back without the event's passwords or the secret
// variables in any spelling the redaction knows (URL, body, headers).
func TestRecordPassesThroughRedacted(t *testing.T) {
	const pw, secret = "hunter2000&x", "sk_live_42"
	s := settings("newPw", workflow.NewPasswordProvided)
	f := &fakeRunner{resp: sandbox.Response{Result: &workflow.Result{Status: workflow.StatusSucceeded}, Fetch: []httpstub.Stub{{
		Method: "GET", URL: "https://api.example.com/?pw=hunter2000%26x&k=" + secret, Status: 200,
		Headers: map[string]string{"Location": "/" + secret}, Body: `{"echo":"hunter2000&x","key":"` + secret + `"}`,
	}}}}
	resp := Run(context.Background(), f, Request{Workflows: []Workflow{{Settings: s}}, Trigger: s.Trigger, Record: true,
		Env:   map[string]bindings.EnvVar{"K": {Value: secret, IsSecret: true}},
		Event: []byte(`{"context": {"auth": {"firstPassword": "hunter2000&x"}}}`)})
	if f.got == nil || !f.got.Record {
		t.Fatalf("runner got Record=false")
	}
	if len(resp.Fetch) != 1 {
		t.Fatalf("fetch = %+v", resp.Fetch)
	}
	got := resp.Fetch[0]
	all := got.URL + "\n" + got.Body + "\n" + got.Headers["Location"]
	for _, leak := range append(leakForms(pw), secret) {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked into the recording: %s", leak, all)
		}
	}
	if got.Method != "GET" || got.Status != 200 || !strings.HasPrefix(got.URL, "https://api.example.com/") {
		t.Errorf("recording changed beyond redaction: %+v", got)
	}
}

// TestRecordTruncatedBodyKeepsNoSecretPrefix: a recorded body cut at the
// recording's bound can end inside a secret (an API echoing what it was
// sent); the part before the cut matches no whole spelling, so it must be
// dropped rather than stored.
func TestRecordTruncatedBodyKeepsNoSecretPrefix(t *testing.T) {
	const pw, secret = "hunter2000&x", "sk_live_4242"
	s := settings("newPw", workflow.NewPasswordProvided)
	pad := strings.Repeat("a", outbound.RecordBodyBytes-7)
	for _, tc := range []struct{ name, body string }{
		{"secret", pad + secret[:7]},
		{"password", pad + pw[:7]},
		{"secret in JSON, upper case", pad + `"SK_LIVE`},
		{"secret cut in a multi-byte spelling", pad + "sk_li\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRunner{resp: sandbox.Response{Result: &workflow.Result{Status: workflow.StatusSucceeded}, Fetch: []httpstub.Stub{{
				Method: "GET", URL: "https://api.example.com/echo", Status: 200, Body: tc.body, Truncated: true,
			}}}}
			resp := Run(context.Background(), f, Request{Workflows: []Workflow{{Settings: s}}, Trigger: s.Trigger, Record: true,
				Env:   map[string]bindings.EnvVar{"K": {Value: secret, IsSecret: true}},
				Event: []byte(`{"context": {"auth": {"firstPassword": "hunter2000&x"}}}`)})
			body := strings.ToLower(strings.TrimRight(resp.Fetch[0].Body, "\uFFFD"))
			for _, v := range []string{secret, pw} {
				for k := bindings.MinRedactLen; k < len(v); k++ {
					if strings.HasSuffix(body, v[:k]) {
						t.Fatalf("the recording ends with %q, the first %d bytes of a secret", v[:k], k)
					}
				}
			}
			if !strings.HasPrefix(resp.Fetch[0].Body, pad) || !resp.Fetch[0].Truncated {
				t.Errorf("more than the cut secret was dropped: %d bytes left", len(resp.Fetch[0].Body))
			}
		})
	}
}

// TestRecordRedactsSecretsAsJSONEncodersEscapeThem: a recorded body is
// what some server wrote: HTML escaped, or often with a JSON encoder that escapes HTML
// characters (Go's encoding/json: & as \u0026) or every character outside
// plain ASCII (.NET's System.Text.Json). An API echoing a password or a
// secret must not leave it in the recording in those spellings.
func TestRecordRedactsSecretsAsJSONEncodersEscapeThem(t *testing.T) {
	const pw, secret = "hunter2000&x<y", "sk+live'é>42"
	s := settings("newPw", workflow.NewPasswordProvided)
	for _, body := range []string{
		`{"echo":"hunter2000\u0026x\u003cy"}`,                           // Go
		`{"echo":"hunter2000\u0026x\u003Cy"}`,                           // .NET
		`{"key":"sk+live'é\u003e42"}`,                                   // Go
		`{"key":"sk+live'\u00e9>42"}`,                                   // Python
		`{"key":"sk\u002Blive\u0027\u00E9\u003E42"}`,                    // .NET
		`{"echo":"hunter2000\u0026x\u003cy","key":"sk+live'é\u003e42"}`, // both
		`<p>Not accepted: hunter2000&amp;x&lt;y</p>`,                    // an HTML page
	} {
		f := &fakeRunner{resp: sandbox.Response{Result: &workflow.Result{Status: workflow.StatusSucceeded}, Fetch: []httpstub.Stub{{
			Method: "POST", URL: "https://api.example.com/echo", Status: 200, Body: body,
		}}}}
		resp := Run(context.Background(), f, Request{Workflows: []Workflow{{Settings: s}}, Trigger: s.Trigger, Record: true,
			Env:   map[string]bindings.EnvVar{"K": {Value: secret, IsSecret: true}},
			Event: []byte(`{"context": {"auth": {"firstPassword": "hunter2000&x<y"}}}`)})
		got := strings.ToLower(resp.Fetch[0].Body)
		if strings.Contains(got, "hunter2000") || strings.Contains(got, "live") {
			t.Errorf("recorded body keeps a secret: %s", resp.Fetch[0].Body)
		}
	}
}
