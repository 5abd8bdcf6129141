package sampleevent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// TestEveryTrigger: each trigger Flowgate runs has a sample, and nothing else
// does; each is a JSON object naming its trigger, with request and context.
func TestEveryTrigger(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "workflow", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(workflow.Triggers) {
		t.Errorf("%d sample files for %d triggers", len(files), len(workflow.Triggers))
	}
	for _, trig := range workflow.Triggers {
		ev, ok := JSON(trig)
		if !ok {
			t.Errorf("%s: no sample: add internal/workflow/events/%s.json", trig, strings.ReplaceAll(trig, ":", "_"))
			continue
		}
		var got struct {
			Request map[string]any `json:"request"`
			Context struct {
				Workflow struct {
					Trigger string `json:"trigger"`
				} `json:"workflow"`
			} `json:"context"`
		}
		if err := json.Unmarshal([]byte(ev), &got); err != nil {
			t.Errorf("%s: %v", trig, err)
			continue
		}
		if got.Context.Workflow.Trigger != trig || got.Request == nil {
			t.Errorf("%s: sample is\n%s", trig, ev)
		}
	}
	for _, bad := range []string{"", "user:tokens", "USER:TOKENS_GENERATION", "__proto__", "../events/x"} {
		if ev, ok := JSON(bad); ok || ev != "" {
			t.Errorf("JSON(%q) = %q, %v; want no sample", bad, ev, ok)
		}
	}
}

// TestGolden: the printed sample of one trigger, as "flowgate event" and
// the console show it.
func TestGolden(t *testing.T) {
	got, _ := JSON(workflow.UserPreMFA)
	want, err := os.ReadFile(filepath.Join("testdata", "user_pre_mfa.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("JSON(%q) =\n%s\nwant\n%s", workflow.UserPreMFA, got, want)
	}
}

// TestSamplesAreNotShared: two calls give the same text (nothing is
// written into a shared value).
func TestSamplesAreNotShared(t *testing.T) {
	a, _ := JSON(workflow.UserTokenGeneration)
	b, _ := JSON(workflow.UserTokenGeneration)
	if a != b {
		t.Errorf("two calls differ:\n%s\n%s", a, b)
	}
}
