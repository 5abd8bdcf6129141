package workflow

// The Results that no workflow code produced: the CLI, the runtime API and
// the sandbox runners build them here so they are the same everywhere.

// Skipped is the Result when no workflow answers the trigger: the auth flow
// goes on as if there were none (the runtime API answers it with 200).
func Skipped(trigger string) *Result {
	return &Result{Trigger: trigger, Status: StatusSkipped}
}

// LoadFailed is the Result for a bundle the runtime cannot compile or start
// (kind load): the checks passed, so this is rare — a construct only the
// runtime rejects, or a corrupt artifact. err's message is shown as is.
func LoadFailed(s Settings, err error) *Result {
	return Failed(s, KindLoad, err.Error())
}

// Failed is a failed Result of settings s that ended before or outside the
// workflow's code, with kind and message.
func Failed(s Settings, kind ErrorKind, message string) *Result {
	return &Result{
		WorkflowID: s.ID, Trigger: s.Trigger, FailurePolicy: s.Policy(),
		Status: StatusFailed, Error: &Error{Kind: kind, Message: message},
	}
}
