package workflow

// Result is what one invocation produced: the CLI's `run` output and the
// runtime API's response body (docs/architecture.md). A field appears when it applies.
type Result struct {
	WorkflowID    string      `json:"workflowId,omitempty"`
	Trigger       string      `json:"trigger,omitempty"`
	Status        string      `json:"status"` // StatusSucceeded, StatusFailed, StatusSkipped
	FailurePolicy string      `json:"failurePolicy,omitempty"`
	Error         *Error      `json:"error,omitempty"`
	AccessToken   *Token      `json:"accessToken,omitempty"`
	IDToken       *Token      `json:"idToken,omitempty"`
	M2MToken      *Token      `json:"m2mToken,omitempty"`
	Auth          *Auth       `json:"auth,omitempty"`
	MFA           *MFA        `json:"mfa,omitempty"`
	Plan          *Plan       `json:"plan,omitempty"`
	Widget        *Widget     `json:"widget,omitempty"`
	SSOSession    *SSOSession `json:"ssoSession,omitempty"`
	Risk          *Risk       `json:"risk,omitempty"`
	Logs          []Log       `json:"logs,omitempty"`
	DurationMs    float64     `json:"durationMs"`
}

// Result statuses.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
)

// Error is an uncaught exception or rejection, or a limit that ended the run.
type Error struct {
	// Kind says what ended the run (one of the ErrorKind constants), so the
	// API, metrics and failure policy never match message text.
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
	Stack   string    `json:"stack,omitempty"` // positions in the original source
}

// ErrorKind classifies a failed run. The set is part of the Result contract:
// add kinds, never rename one.
type ErrorKind string

// Error kinds.
const (
	KindThrown         ErrorKind = "thrown"           // an uncaught exception or a rejected promise
	KindTimeout        ErrorKind = "timeout"          // the wall time ran out (or the run was cancelled)
	KindMemory         ErrorKind = "memory"           // the memory budget or an allocation guard ended the run
	KindCallDepth      ErrorKind = "call-depth"       // the call stack limit was reached
	KindResultTooLarge ErrorKind = "result-too-large" // claims and logs exceed the result limit
	KindBinding        ErrorKind = "binding"          // a kinde.* binding refused the call (undeclared, not allowed, bad arguments, network policy)
	KindLoad           ErrorKind = "load"             // the bundle does not compile or has no usable default export
	KindSandboxCrashed ErrorKind = "sandbox-crashed"  // the worker process running the workflow died
	KindNeverSettled   ErrorKind = "never-settled"    // the default export's promise can never settle
	KindQuarantined    ErrorKind = "quarantined"      // the workflow kept killing workers and is not run
	KindInternal       ErrorKind = "internal"         // a Flowgate bug; the message says what
)

// Token holds the custom claims set on one token.
type Token struct {
	CustomClaims map[string]any `json:"customClaims"`
	ResetClaims  bool           `json:"resetClaims,omitempty"`
}

// Auth records kinde.auth.denyAccess.
type Auth struct {
	Denied bool   `json:"denied"`
	Reason string `json:"reason,omitempty"`
}

// MFA records kinde.mfa.setEnforcementPolicy.
type MFA struct {
	EnforcementPolicy string `json:"enforcementPolicy"`
}

// Plan records kinde.plan denials.
type Plan struct {
	DenySelection    *DenySelection    `json:"denySelection,omitempty"`
	DenyCancellation *DenyCancellation `json:"denyCancellation,omitempty"`
}

// DenySelection records kinde.plan.denySelection.
type DenySelection struct {
	Message string   `json:"message"`
	Reasons []string `json:"reasons"`
}

// DenyCancellation records kinde.plan.denyCancellation.
type DenyCancellation struct {
	Reason string `json:"reason"`
}

// Widget records kinde.widget.invalidateFormField.
type Widget struct {
	InvalidFormFields map[string]string `json:"invalidFormFields"`
}

// SSOSession records kinde.ssoSession.setPolicy.
type SSOSession struct {
	Policy string `json:"policy"`
}

// Risk records kinde.risk.setScore.
type Risk struct {
	Score float64 `json:"score"`
}

// Log is one console line (already redacted).
type Log struct {
	Level   string `json:"level"` // debug, info, warn, error
	Message string `json:"message"`
}
