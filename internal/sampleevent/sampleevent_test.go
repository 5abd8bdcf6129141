package sampleevent

import (
	"encoding/json"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// TestEveryTrigger: each trigger Flowgate runs has a sample, and nothing else
// does; each is a JSON object naming its trigger, with request and context.
func TestEveryTrigger(t *testing.T) {
	if len(templates) != len(workflow.Triggers) {
		t.Errorf("%d samples for %d triggers", len(templates), len(workflow.Triggers))
	}
	for _, trig := range workflow.Triggers {
		ev, ok := JSON(trig)
		if !ok {
			t.Errorf("%s: no sample", trig)
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
	for _, bad := range []string{"", "user:tokens", "USER:TOKENS_GENERATION", "__proto__"} {
		if ev, ok := JSON(bad); ok || ev != "" {
			t.Errorf("JSON(%q) = %q, %v; want no sample", bad, ev, ok)
		}
	}
}

// TestSamplesAreNotShared: changing one sample's output leaves the next
// call unchanged (JSON copies context before adding the trigger).
func TestSamplesAreNotShared(t *testing.T) {
	a, _ := JSON(workflow.UserTokenGeneration)
	b, _ := JSON(workflow.UserTokenGeneration)
	if a != b {
		t.Errorf("two calls differ:\n%s\n%s", a, b)
	}
	if _, ok := templates[workflow.UserTokenGeneration]["context"].(map[string]any)["workflow"]; ok {
		t.Error("JSON wrote context.workflow into the shared template")
	}
}
