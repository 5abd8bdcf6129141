package workflow

// EnvVar is one environment variable as a workflow reads it (kinde.env).
type EnvVar struct {
	Value    string `json:"value"`
	IsSecret bool   `json:"isSecret"`
	// Unreadable, when set, is why the value could not be provided (a
	// secret that does not decrypt): reading the variable throws it.
	Unreadable string `json:"unreadable,omitempty"`
}
