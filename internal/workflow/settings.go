package workflow

// Settings is the workflowSettings object a workflow exports, read by
// evaluating its bundle once without bindings.
type Settings struct {
	ID            string                     `json:"id"`
	Name          string                     `json:"name,omitempty"`
	Trigger       string                     `json:"trigger"`
	FailurePolicy FailurePolicy              `json:"failurePolicy,omitzero"`
	Bindings      map[string]BindingSettings `json:"bindings,omitempty"`
}

// FailurePolicy says what the auth flow does when the workflow fails.
type FailurePolicy struct {
	Action string `json:"action,omitempty"` // "stop" (default) or "continue"
}

// BindingSettings is the per-binding settings object; only the token
// bindings take an option today.
type BindingSettings struct {
	ResetClaims bool `json:"resetClaims,omitempty"`
}

// Policy returns the effective failure policy ("stop" unless "continue").
func (s Settings) Policy() string {
	if s.FailurePolicy.Action == "continue" {
		return "continue"
	}
	return "stop"
}

// Declares reports whether the settings declare binding name.
func (s Settings) Declares(name string) bool {
	_, ok := s.Bindings[name]
	return ok
}
