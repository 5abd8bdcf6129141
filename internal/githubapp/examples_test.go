package githubapp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flowgate/flowgate/internal/testenv"
)

// webhookExamples are GitHub's real webhook payloads, from the npm package
// @octokit/webhooks-examples (installed by .ci/run into testdata/npm).
var (
	examplesOnce sync.Once
	examples     map[string][]json.RawMessage
	examplesErr  error
)

// example returns the first real payload of event whose "action" is action
// (any action when empty).
func example(t testing.TB, event, action string) json.RawMessage {
	t.Helper()
	dir := filepath.Join(testenv.NodeModules(t), "@octokit", "webhooks-examples", "api.github.com")
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		testenv.Missing(t, "npm package @octokit/webhooks-examples", "run `npm ci --prefix testdata/npm` (what .ci/run does)")
	}
	examplesOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			examplesErr = err
			return
		}
		var idx []struct {
			Name     string            `json:"name"`
			Examples []json.RawMessage `json:"examples"`
		}
		if examplesErr = json.Unmarshal(data, &idx); examplesErr != nil {
			return
		}
		examples = map[string][]json.RawMessage{}
		for _, e := range idx {
			examples[e.Name] = e.Examples
		}
	})
	if examplesErr != nil {
		t.Fatal(examplesErr)
	}
	for _, p := range examples[event] {
		var head struct {
			Action string `json:"action"`
		}
		json.Unmarshal(p, &head)
		if action == "" || head.Action == action {
			return p
		}
	}
	t.Fatalf("no %s/%s example payload", event, action)
	return nil
}
