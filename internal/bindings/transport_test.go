package bindings

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// roundTripFunc answers requests in-process, as `flowgate test` does.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNetPolicyTransport: a Transport answers every request (fetch and the
// JWKS fetch alike) instead of the guarded network, even for hosts the
// guard would refuse or that do not exist.
func TestNetPolicyTransport(t *testing.T) {
	var seen []string
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body := ""
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			body = string(b)
		}
		seen = append(seen, r.Method+" "+r.URL.String()+" "+body)
		return &http.Response{
			StatusCode: 201, Status: "201 Created", Request: r,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   io.NopCloser(strings.NewReader(`{"ok":true}`)),
		}, nil
	})
	s := newSandbox(t, &Config{
		Settings: declare(workflow.PostAuthentication, workflow.BindFetch),
		Net:      &NetPolicy{Transport: tr},
	})
	got := s.mustRun(t, `
		const a = kinde.fetch("http://127.0.0.1:1/private", {method: "POST", body: "x"});
		const b = kinde.fetch("https://api.invalid/y");
		[a.status, a.json.ok, b.status].join(",")`)
	if got != "201,true,201" {
		t.Errorf("results = %v", got)
	}
	want := []string{"POST http://127.0.0.1:1/private x", "GET https://api.invalid/y "}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("transport saw %q, want %q", seen, want)
	}
}
