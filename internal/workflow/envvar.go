package workflow

// EnvVar is one environment variable as an invocation sees it (kinde.env)
// and as the CLI's --env file spells it. The deployment store, the runtime
// API and the bindings share this one type, so the variables go from the
// environment's snapshot to the run without a copy.
type EnvVar struct {
	Value    string `json:"value"`
	IsSecret bool   `json:"isSecret"`
	// Unreadable, when set, is why the value could not be provided (a
	// secret that does not decrypt): reading the variable throws it.
	Unreadable string `json:"unreadable,omitempty"`
}
