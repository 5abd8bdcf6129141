package store

import (
	"encoding/json"
	"time"
)

// Status is a deployment's state, named as the Kinde docs name them.
type Status string

const (
	// Processing: created by a sync whose artifacts are still being stored.
	Processing Status = "Processing"
	// Draft: valid, and its workflow has no live deployment (preview mode).
	Draft Status = "Draft"
	// Deployed: valid and ready to be made live.
	Deployed Status = "Deployed"
	// Live: the one deployment the runtime API serves for its workflow.
	Live Status = "Live"
	// Failed: the code was not valid, or storing it failed.
	Failed Status = "Failed"
	// Deactivated: was live, then deactivated; it can be made live again.
	Deactivated Status = "Deactivated"
)

// Sync statuses: a typed state machine. running → succeeded | failed |
// skipped (final: running the same sync again does nothing) or →
// interrupted (it could not finish: a database, artifact store or registry
// error; its job retries) or → crashed (the process running it died: its
// heartbeat stopped; another worker takes it over).
const (
	SyncRunning     = "running"
	SyncSucceeded   = "succeeded"
	SyncFailed      = "failed"
	SyncSkipped     = "skipped"
	SyncInterrupted = "interrupted"
	SyncCrashed     = "crashed"
)

// Why a sync ended as it did (Sync.Reason), for what reports it.
const (
	ReasonRepository = "repository-errors"  // failed: diagnostics in the code
	ReasonUnsyncable = "unsyncable-commit"  // failed: the commit's archive breaks the extraction rules
	ReasonKilled     = "killed-process"     // failed: its syncs died with their process too many times
	ReasonNothing    = "nothing-changed"    // skipped: no file a sync reads changed
	ReasonChanged    = "changed-while-read" // skipped: a dev directory changed while it was copied
	ReasonError      = "error"              // interrupted: could not finish; retried
	ReasonHeartbeat  = "heartbeat-stopped"  // crashed: taken over
	ReasonDuplicate  = "duplicate"          // skipped: another run of the same sync finished first
)

// Live-pointer actions recorded in the flip history.
const (
	ActionAutoLive   = "auto-live"
	ActionMakeLive   = "make-live"
	ActionRollback   = "rollback"
	ActionDeactivate = "deactivate"
	ActionDelete     = "delete"
)

// Environment is a deployment target such as "production".
type Environment struct {
	Name             string    `json:"name"`
	PreviewMode      bool      `json:"previewMode"` // new deployments wait as Draft/Deployed instead of going live
	RuntimeTokenHash string    `json:"-"`           // hash of the runtime API bearer token; "" when none set
	CreatedAt        time.Time `json:"createdAt"`
}

// Source is where an environment's code comes from.
type Source struct {
	Env            string    `json:"env"`
	Kind           string    `json:"kind"` // "github" or "dev"
	Ref            string    `json:"ref"`  // owner/repo, or a local path in dev mode
	Branch         string    `json:"branch"`
	InstallationID int64     `json:"installationId"`
	RepoID         int64     `json:"repoId,omitempty"` // GitHub's repository id; 0 = bound by the next push of Ref
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Workflow is one workflow id in an environment. A workflow stays when its
// file leaves the repository; only an explicit delete sets Deleted.
type Workflow struct {
	Env       string    `json:"env"`
	ID        string    `json:"id"`
	Trigger   string    `json:"trigger"`
	Name      string    `json:"name"`
	File      string    `json:"file"`
	Deleted   bool      `json:"deleted"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Deployment is one build of one workflow at one commit. Its artifacts are
// immutable and addressed by digest.
type Deployment struct {
	ID                 string          `json:"id"`
	Env                string          `json:"env"`
	WorkflowID         string          `json:"workflowId"`
	Status             Status          `json:"status"`
	BundleDigest       string          `json:"bundleDigest"`
	SourceMapDigest    string          `json:"sourceMapDigest"`
	Settings           json.RawMessage `json:"settings"` // workflow.Settings as read at sync time
	CommitSHA          string          `json:"commitSha"`
	SyncID             string          `json:"syncId"`
	File               string          `json:"file"`
	CreatedAt          time.Time       `json:"createdAt"`
	HasPreviewPassword bool            `json:"hasPreviewPassword"`
}

// LiveDeployment is what the runtime API needs to run a trigger.
type LiveDeployment struct {
	Env             string          `json:"env"`
	Trigger         string          `json:"trigger"`
	WorkflowID      string          `json:"workflowId"`
	DeploymentID    string          `json:"deploymentId"`
	BundleDigest    string          `json:"bundleDigest"`
	SourceMapDigest string          `json:"sourceMapDigest"`
	Settings        json.RawMessage `json:"settings"`
}

// Flip is one recorded move of a live pointer.
type Flip struct {
	Seq            int64     `json:"seq"`
	Env            string    `json:"env"`
	WorkflowID     string    `json:"workflowId"`
	FromDeployment string    `json:"fromDeployment"` // "" when nothing was live
	ToDeployment   string    `json:"toDeployment"`   // "" after a deactivate or delete
	Action         string    `json:"action"`         // one of the Action constants
	Actor          string    `json:"actor"`          // who: "sync", "admin", a user name
	Reason         string    `json:"reason"`
	At             time.Time `json:"at"`
}

// SyncLogEntry is one line of a sync's log: one diagnostic or outcome of
// one workflow, keyed by rule when a rule produced it.
type SyncLogEntry struct {
	WorkflowID string `json:"workflowId,omitempty"`
	File       string `json:"file,omitempty"`
	Severity   string `json:"severity"` // error, warning, info
	Rule       string `json:"rule,omitempty"`
	Message    string `json:"message"`
	Line       int    `json:"line,omitempty"`
	Column     int    `json:"column,omitempty"`
	Deployment string `json:"deploymentId,omitempty"`
}

// Sync is one attempt to deploy one commit to one environment.
type Sync struct {
	ID        string `json:"id"`
	Env       string `json:"env"`
	CommitSHA string `json:"commitSha"`
	Source    string `json:"source"`
	Resync    string `json:"resync,omitempty"` // set when a commit is synced again on purpose
	Status    string `json:"status"`           // SyncRunning … SyncCrashed
	Reason    string `json:"reason,omitempty"` // Reason… constants
	// RequestedAt orders syncs of one environment: when the push (or dev
	// change) asked for it, not when a worker got to it.
	RequestedAt time.Time      `json:"requestedAt"`
	StartedAt   time.Time      `json:"startedAt"`
	FinishedAt  time.Time      `json:"finishedAt,omitzero"`
	Log         []SyncLogEntry `json:"log"`
	Error       string         `json:"error"`
	// HeartbeatAt is the lease of the process running it (running only).
	HeartbeatAt time.Time `json:"-"`
	// Job is the request as JSON, so a takeover can run it again.
	Job []byte `json:"-"`
}

// Finished reports whether the sync reached a final state: running it
// again does nothing.
func (s Sync) Finished() bool {
	return s.Status == SyncSucceeded || s.Status == SyncFailed || s.Status == SyncSkipped
}

// Variable is an environment variable. Value holds the stored bytes: the
// plain value, or the sealed one when Secret (deploy seals and opens).
type Variable struct {
	Env       string    `json:"env"`
	Name      string    `json:"name"`
	Value     []byte    `json:"-"` // never serialised: use deploy.VariableView
	Secret    bool      `json:"isSecret"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// EncryptionKey is a workflow's key for kinde.secureFetch; Sealed is the
// key encrypted under the master key.
type EncryptionKey struct {
	ID         string    `json:"id"`
	Env        string    `json:"env"`
	WorkflowID string    `json:"workflowId"`
	Sealed     []byte    `json:"-"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"createdAt"`
}

// RuntimeLog is one line of one invocation's log (or its summary line).
type RuntimeLog struct {
	Seq          int64         `json:"seq"`
	InvocationID string        `json:"invocationId"`
	Env          string        `json:"env"`
	WorkflowID   string        `json:"workflowId"`
	DeploymentID string        `json:"deploymentId"`
	Trigger      string        `json:"trigger"`
	Level        string        `json:"level"`
	Message      string        `json:"message"`
	Status       string        `json:"status"`
	Duration     time.Duration `json:"-"` // the API shapes it (e.g. durationMs)
	At           time.Time     `json:"at"`
}

// LogQuery filters runtime logs; zero fields do not filter.
type LogQuery struct {
	Env          string
	WorkflowID   string
	InvocationID string
	Since        time.Time
	BeforeSeq    int64 // page backwards: only rows with a smaller Seq
	Limit        int   // default 100, at most 1000
}

// Installation is a GitHub App installation.
type Installation struct {
	ID        int64     `json:"id"`
	Account   string    `json:"account"`
	CreatedAt time.Time `json:"createdAt"`
	DeletedAt time.Time `json:"deletedAt,omitzero"`
}
