package project

import (
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

func TestPick(t *testing.T) {
	r := &Report{Workflows: []*Workflow{
		{File: "a", Settings: workflow.Settings{ID: "a", Trigger: workflow.UserPreMFA}},
		{File: "b", Settings: workflow.Settings{ID: "b", Trigger: workflow.UserTokenGeneration}},
		{File: "broken"}, // settings could not be read
	}}
	cases := []struct {
		name, trigger, id, want string
	}{
		{"by trigger", workflow.UserTokenGeneration, "", "b"},
		{"by id", "", "a", "a"},
		{"id wins over trigger", workflow.UserTokenGeneration, "a", "a"},
		{"unknown trigger", workflow.PlanSelection, "", ""},
		{"unknown id", "", "c", ""},
		{"empty trigger does not match unread settings", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := r.Pick(c.trigger, c.id)
			switch {
			case c.want == "" && got != nil:
				t.Errorf("Pick = %s, want none", got.File)
			case c.want != "" && (got == nil || got.File != c.want):
				t.Errorf("Pick = %v, want %s", got, c.want)
			}
		})
	}
	if got := r.IDList(); got != `"a", "b"` {
		t.Errorf("IDList = %s", got)
	}
	if got := (&Report{}).IDList(); got != "none" {
		t.Errorf("IDList of nothing = %s", got)
	}
}
