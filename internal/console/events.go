package console

import "github.com/flowgate/flowgate/internal/sampleevent"

// EventTemplate is a sample event for a trigger as indented JSON, with
// context.workflow.trigger set; "{}" for an unknown trigger.
func EventTemplate(trigger string) string {
	ev, ok := sampleevent.JSON(trigger)
	if !ok {
		return "{}"
	}
	return ev
}
