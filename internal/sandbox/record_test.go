package sandbox

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/outbound"
	"github.com/flowgate/flowgate/internal/workflow"
)

// recordingServer answers the requests of recordCode.
func recordingServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"plan":"pro"}`))
		case "/redirect":
			http.Redirect(w, r, "/json?from=redirect", http.StatusFound)
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(strings.Repeat("x", outbound.RecordBodyBytes+100)))
		case "/secure":
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte("sealed ok"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return srv, "127.0.0.1:" + port
}

// recordCode makes every kind of outbound request: kinde.fetch (plain, a
// redirect, a body over the recording bound) and kinde.secureFetch.
const recordCode = `module.exports.default = async function (event) {
  const base = event.context.base;
  const a = await kinde.fetch(base + "/json", {method: "GET"});
  kinde.accessToken.setCustomClaim("plan", a.json.plan);
  await kinde.fetch(base + "/redirect", {method: "GET"});
  const big = await kinde.fetch(base + "/big", {method: "GET", responseFormat: "text"});
  kinde.accessToken.setCustomClaim("bigLen", big.data ? big.data.length : 0);
  await kinde.secureFetch(base + "/secure", {method: "POST", body: {hello: "world"}});
};`

func TestRecordCapturesEveryOutboundAnswer(t *testing.T) {
	srv, host := recordingServer(t)
	sup, _ := newSupervisor(t, nil)
	in := NewInProcess(Options{})
	defer in.Close()
	for _, r := range []struct {
		name   string
		runner Runner
	}{{"in process", in}, {"worker process", sup}} {
		t.Run(r.name, func(t *testing.T) {
			req := &Request{
				Settings: workflow.Settings{ID: "rec", Trigger: workflow.UserTokenGeneration, Bindings: map[string]workflow.BindingSettings{
					workflow.BindFetch: {}, workflow.BindSecureFetch: {}, workflow.BindAccessToken: {}}},
				Code:          []byte(recordCode),
				Event:         []byte(`{"context":{"base":"` + srv.URL + `"}}`),
				AllowHosts:    []string{host},
				EncryptionKey: make([]byte, 32),
				Record:        true,
			}
			resp := r.runner.Run(context.Background(), req)
			wantOK(t, resp.Result)
			type want struct {
				method, path, ctype, location, body string
				status                              int
				truncated                           bool
			}
			wants := []want{
				{method: "GET", path: "/json", status: 200, ctype: "application/json", body: `{"plan":"pro"}`},
				{method: "GET", path: "/redirect", status: 302, ctype: "text/html; charset=utf-8", location: "/json?from=redirect"},
				{method: "GET", path: "/json?from=redirect", status: 200, ctype: "application/json", body: `{"plan":"pro"}`},
				{method: "GET", path: "/big", status: 200, ctype: "text/plain", body: strings.Repeat("x", outbound.RecordBodyBytes), truncated: true},
				{method: "POST", path: "/secure", status: 202, ctype: "text/plain; charset=utf-8", body: "sealed ok"},
			}
			if len(resp.Fetch) != len(wants) {
				t.Fatalf("recorded %d answers, want %d: %+v", len(resp.Fetch), len(wants), resp.Fetch)
			}
			for i, w := range wants {
				got := resp.Fetch[i]
				if got.Method != w.method || got.URL != srv.URL+w.path || got.Status != w.status ||
					got.Headers["Content-Type"] != w.ctype || got.Headers["Location"] != w.location ||
					got.Truncated != w.truncated || (w.body != "" && got.Body != w.body) {
					t.Errorf("answer %d: %s %s %d %v truncated=%v body %d bytes; want %+v",
						i, got.Method, got.URL, got.Status, got.Headers, got.Truncated, len(got.Body), w)
				}
				if got.Method == "POST" && strings.Contains(got.Body, "world") {
					t.Errorf("a request body was kept: %q", got.Body)
				}
			}
			// Without Record nothing is kept.
			req.Record = false
			if resp := r.runner.Run(context.Background(), req); resp.Fetch != nil {
				t.Errorf("recorded without Record: %+v", resp.Fetch)
			}
		})
	}
}

// TestRecordedAnswersReplay: a recording, given back as the stubs, runs
// the workflow to the same Result without the network.
func TestRecordedAnswersReplay(t *testing.T) {
	srv, host := recordingServer(t)
	in := NewInProcess(Options{})
	defer in.Close()
	req := &Request{
		Settings: workflow.Settings{ID: "rec", Trigger: workflow.UserTokenGeneration, Bindings: map[string]workflow.BindingSettings{
			workflow.BindFetch: {}, workflow.BindSecureFetch: {}, workflow.BindAccessToken: {}}},
		Code: []byte(recordCode), Event: []byte(`{"context":{"base":"` + srv.URL + `"}}`),
		AllowHosts: []string{host}, EncryptionKey: make([]byte, 32), Record: true,
	}
	first := in.Run(context.Background(), req)
	wantOK(t, first.Result)
	srv.Close() // the replay must not need it
	req.Record, req.AllowHosts, req.Stubs = false, nil, first.Fetch
	again := in.Run(context.Background(), req)
	wantOK(t, again.Result)
	if len(again.Unmatched) != 0 {
		t.Fatalf("unmatched on replay: %q", again.Unmatched)
	}
	if g, w := again.Result.AccessToken.CustomClaims["plan"], first.Result.AccessToken.CustomClaims["plan"]; g != w || g != "pro" {
		t.Errorf("replayed plan %v, recorded %v", g, w)
	}
}
