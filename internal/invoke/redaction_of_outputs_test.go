package invoke

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The password list is read from the event by encoding/json, the event
// the workflow sees by the runtime's own parser: an event both accept must
// give the same passwords, or the workflow sees a password that is never
// redacted. (The runtime API accepts any event json.Valid accepts, 1e400
// included; only the adapters run CheckEvent first.)
func TestPasswordsOfEventsThatDecodeDifferently(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	const pw = "hunter2-Secret"
	for name, event := range map[string]string{
		// a number encoding/json cannot hold in a float64 (the runtime reads Infinity)
		"huge number beside":   `{"context":{"auth":{"password":"` + pw + `"}},"n":1e400}`,
		"huge number inside":   `{"context":{"auth":{"password":"` + pw + `","n":-1e999}}}`,
		"huge number in a key": `{"context":{"auth":{"password":"` + pw + `"},"user":{"id":"kp_1","x":[1e309]}}}`,
		"escaped key":          `{"context":{"auth":{"pass\u0077ord":"` + pw + `"}}}`,
		"duplicate auth":       `{"context":{"auth":{"password":"x"},"auth":{"password":"` + pw + `"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			resp := Run(context.Background(), runner, Request{Workflows: build(), Trigger: workflow.ExistingPasswordProvided,
				Stubs: []httpstub.Stub{}, Event: []byte(event)})
			out, _ := json.Marshal(resp.Result)
			if !strings.Contains(string(out), "checking ") {
				t.Fatalf("the workflow did not run: %s", out)
			}
			for _, leak := range leakForms(pw) {
				if strings.Contains(string(out), leak) || strings.Contains(strings.Join(resp.Unmatched, "\n"), leak) {
					t.Errorf("%q leaked:\n%s", leak, out)
				}
			}
		})
	}
}

// flowgate test lists the fetches no stub answered, URL and all: a secret
// variable the workflow put in a URL (encoded as the runtime encodes it)
// must be redacted there as in logs and errors.
func TestUnmatchedFetchesRedactSecrets(t *testing.T) {
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	const secret = "sk_live Secret/Value!(1)"
	code := `exports.default = async function (event) {
  const k = kinde.env.get("API_KEY").value;
  for (const u of ["https://api.example.com/v1?key=" + encodeURIComponent(k), "https://api.example.com/" + k, "https://api.example.com/?" + new URLSearchParams({ k })]) {
    try { kinde.fetch(u); } catch (e) {}
  }
};`
	w := Workflow{Settings: settings("tok", workflow.UserTokenGeneration, workflow.BindFetch, workflow.BindEnv), Code: []byte(code)}
	resp := Run(context.Background(), runner, Request{Workflows: []Workflow{w}, Trigger: workflow.UserTokenGeneration,
		Stubs: []httpstub.Stub{}, Event: []byte(`{"context":{"user":{"id":"kp_1"}}}`),
		Env: map[string]bindings.EnvVar{"API_KEY": {Value: secret, IsSecret: true}}})
	if len(resp.Unmatched) != 3 {
		t.Fatalf("unmatched %q", resp.Unmatched)
	}
	for _, line := range resp.Unmatched {
		if !strings.Contains(line, "***") || strings.Contains(line, "Secret") {
			t.Errorf("unmatched line %q holds the secret", line)
		}
	}
}
