package sandbox

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// TestRecordingNeverFailsTheRun: what a run's outbound requests were
// answered is recorded only when the call is sampled; an answer whose
// recorded part is too large for a worker's answer frame (here a 9 MiB
// Content-Type, as a hostile service may send, or ten 1 MB URLs) costs
// the recording, never the call: the sampled run ends as the unsampled one.
func TestRecordingNeverFailsTheRun(t *testing.T) {
	big := "text/plain; x=" + strings.Repeat("a", 9<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", big)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	sup, _ := newSupervisor(t, nil)
	req := &Request{
		Settings: workflow.Settings{ID: "rec", Trigger: workflow.UserTokenGeneration, Bindings: map[string]workflow.BindingSettings{
			workflow.BindFetch: {}, workflow.BindAccessToken: {}}},
		Code: []byte(`module.exports.default = async function (event) {
  const r = await kinde.fetch(event.context.base + "/x", {method: "GET", responseFormat: "text"});
  kinde.accessToken.setCustomClaim("got", r.data);
};`),
		Event:      []byte(`{"context":{"base":"` + srv.URL + `"}}`),
		AllowHosts: []string{"127.0.0.1:" + port},
	}
	for _, record := range []bool{false, true} {
		req.Record = record
		resp := sup.Run(context.Background(), req)
		wantOK(t, resp.Result)
		if record && !RecordingCut(resp.Fetch) {
			t.Errorf("an over-large recording came back unmarked (%d answers)", len(resp.Fetch))
		}
	}
}
