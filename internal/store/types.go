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

// Sync statuses.
const (
	SyncRunning   = "running"
	SyncSucceeded = "succeeded"
	SyncFailed    = "failed"
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
	Name             string
	PreviewMode      bool   // new deployments wait as Draft/Deployed instead of going live
	RuntimeTokenHash string // hash of the runtime API bearer token; "" when none set
	CreatedAt        time.Time
}

// Source is where an environment's code comes from.
type Source struct {
	Env            string
	Kind           string // "github" or "dev"
	Ref            string // owner/repo, or a local path in dev mode
	Branch         string
	InstallationID int64
	UpdatedAt      time.Time
}

// Workflow is one workflow id in an environment. A workflow stays when its
// file leaves the repository; only an explicit delete sets Deleted.
type Workflow struct {
	Env       string
	ID        string
	Trigger   string
	Name      string
	File      string
	Deleted   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Deployment is one build of one workflow at one commit. Its artifacts are
// immutable and addressed by digest.
type Deployment struct {
	ID                 string
	Env                string
	WorkflowID         string
	Status             Status
	BundleDigest       string
	SourceMapDigest    string
	Settings           json.RawMessage // workflow.Settings as read at sync time
	CommitSHA          string
	SyncID             string
	File               string
	CreatedAt          time.Time
	HasPreviewPassword bool
}

// LiveDeployment is what the runtime API needs to run a trigger.
type LiveDeployment struct {
	Env             string
	Trigger         string
	WorkflowID      string
	DeploymentID    string
	BundleDigest    string
	SourceMapDigest string
	Settings        json.RawMessage
}

// Flip is one recorded move of a live pointer.
type Flip struct {
	Seq            int64
	Env            string
	WorkflowID     string
	FromDeployment string // "" when nothing was live
	ToDeployment   string // "" after a deactivate or delete
	Action         string // one of the Action constants
	Actor          string // who: "sync", "admin", a user name
	Reason         string
	At             time.Time
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
	ID        string
	Env       string
	CommitSHA string
	Source    string
	Status    string // SyncRunning, SyncSucceeded, SyncFailed
	// RequestedAt orders syncs of one environment: when the push (or dev
	// change) asked for it, not when a worker got to it.
	RequestedAt time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	Log         []SyncLogEntry
	Error       string
}

// Variable is an environment variable. Value holds the stored bytes: the
// plain value, or the sealed one when Secret (deploy seals and opens).
type Variable struct {
	Env       string
	Name      string
	Value     []byte
	Secret    bool
	UpdatedAt time.Time
}

// EncryptionKey is a workflow's key for kinde.secureFetch; Sealed is the
// key encrypted under the master key.
type EncryptionKey struct {
	ID         string
	Env        string
	WorkflowID string
	Sealed     []byte
	Active     bool
	CreatedAt  time.Time
}

// RuntimeLog is one line of one invocation's log (or its summary line).
type RuntimeLog struct {
	Seq          int64
	InvocationID string
	Env          string
	WorkflowID   string
	DeploymentID string
	Trigger      string
	Level        string
	Message      string
	Status       string
	Duration     time.Duration
	At           time.Time
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
	ID        int64
	Account   string
	CreatedAt time.Time
	DeletedAt time.Time
}
