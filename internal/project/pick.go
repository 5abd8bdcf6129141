package project

import (
	"fmt"
	"strings"
)

// Pick finds the workflow to invoke: by id when id is set, else by
// trigger. It returns nil when none matches (for a trigger, the runtime
// answers skipped), and when neither is given: a workflow whose settings
// could not be read has neither, and must not be picked for "nothing".
func (r *Report) Pick(trigger, id string) *Workflow {
	if trigger == "" && id == "" {
		return nil
	}
	for _, w := range r.Workflows {
		if id != "" && w.Settings.ID == id || id == "" && w.Settings.Trigger == trigger {
			return w
		}
	}
	return nil
}

// IDList names the ids the report found, quoted and comma-separated, or
// "none", for "no workflow has id …" messages.
func (r *Report) IDList() string {
	var ids []string
	for _, w := range r.Workflows {
		if w.Settings.ID != "" {
			ids = append(ids, fmt.Sprintf("%q", w.Settings.ID))
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
