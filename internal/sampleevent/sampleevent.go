// Package sampleevent gives the sample event of every trigger, in the shape
// the Kinde documentation gives (request + context, with
// context.workflow.trigger set): the console's Test page starts from one,
// and "flowgate event" prints one. The samples are workflow's, one file per
// trigger beside the trigger table.
package sampleevent

import (
	"encoding/json"

	"github.com/flowgate/flowgate/internal/workflow"
)

// JSON returns the sample event for trigger as indented JSON; ok is false
// for a trigger Flowgate does not run.
func JSON(trigger string) (event string, ok bool) {
	raw, ok := workflow.Sample(trigger)
	if !ok {
		return "", false
	}
	var ev struct {
		Request any            `json:"request"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		panic("sample event of " + trigger + ": " + err.Error()) // embedded, checked by TestEveryTrigger
	}
	if ev.Context == nil {
		ev.Context = map[string]any{}
	}
	ev.Context["workflow"] = map[string]any{"trigger": trigger}
	b, err := json.MarshalIndent(map[string]any{"request": ev.Request, "context": ev.Context}, "", "  ")
	if err != nil {
		panic(err) // decoded JSON encodes
	}
	return string(b), true
}
