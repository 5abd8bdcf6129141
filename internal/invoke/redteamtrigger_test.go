package invoke

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

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
