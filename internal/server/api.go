package server

import (
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// The management API's response types. They are the HTTP contract (docs/api.md),
// with explicit JSON names, and are built from the domain's values by the
// view functions: a store row's fields and tags (some are its storage
// format) never reach a response, so changing a row cannot change the
// API. internal/app's TestManagementAPIGolden pins the JSON.

type environmentView struct {
	Name            string    `json:"name"`
	PreviewMode     bool      `json:"previewMode"`
	HasRuntimeToken bool      `json:"hasRuntimeToken"`
	CreatedAt       time.Time `json:"createdAt"`
}

func viewEnvironment(e deploy.Environment) environmentView {
	return environmentView{Name: e.Name, PreviewMode: e.PreviewMode, HasRuntimeToken: e.RuntimeTokenHash != "", CreatedAt: e.CreatedAt}
}

type runtimeTokenView struct {
	Environment  string `json:"environment"`
	RuntimeToken string `json:"runtimeToken"`
	Note         string `json:"note"`
}

type workflowView struct {
	ID                 string `json:"id"`
	Name               string `json:"name,omitempty"`
	Trigger            string `json:"trigger"`
	LiveDeploymentID   string `json:"liveDeploymentId,omitempty"`
	LatestDeploymentID string `json:"latestDeploymentId,omitempty"`
	LatestStatus       string `json:"latestStatus,omitempty"`
}

func viewWorkflow(wf deploy.WorkflowSummary) workflowView {
	return workflowView{ID: wf.ID, Name: wf.Name, Trigger: wf.Trigger, LiveDeploymentID: wf.LiveDeploymentID,
		LatestDeploymentID: wf.LatestDeploymentID, LatestStatus: string(wf.LatestStatus)}
}

type deploymentView struct {
	ID                 string    `json:"id"`
	WorkflowID         string    `json:"workflowId"`
	Status             string    `json:"status"`
	CommitSHA          string    `json:"commitSha,omitempty"`
	SyncID             string    `json:"syncId,omitempty"`
	File               string    `json:"file,omitempty"`
	BundleSHA256       string    `json:"bundleSha256"`
	CreatedAt          time.Time `json:"createdAt"`
	HasPreviewPassword bool      `json:"hasPreviewPassword"`
}

func viewDeployment(d deploy.Deployment) deploymentView {
	return deploymentView{ID: d.ID, WorkflowID: d.WorkflowID, Status: string(d.Status), CommitSHA: d.CommitSHA,
		SyncID: d.SyncID, File: d.File, BundleSHA256: d.BundleDigest, CreatedAt: d.CreatedAt, HasPreviewPassword: d.HasPreviewPassword}
}

type previewView struct {
	DeploymentID string `json:"deploymentId"`
	Password     string `json:"password"`
	Header       string `json:"header"`
	Note         string `json:"note"`
}

type flipView struct {
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Action string    `json:"action"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

func viewFlip(f deploy.Flip) flipView {
	return flipView{From: f.FromDeployment, To: f.ToDeployment, Action: f.Action, Actor: f.Actor, Reason: f.Reason, At: f.At}
}

type keyView struct {
	ID        string    `json:"id"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
}

func viewKey(k deploy.KeyInfo) keyView {
	return keyView{ID: k.ID, Active: k.Active, CreatedAt: k.CreatedAt}
}

// newKeyView is a key as created: the only time its value is shown.
type newKeyView struct {
	keyView
	Key  string `json:"key"`
	Note string `json:"note"`
}

type variableView struct {
	Name      string    `json:"name"`
	Value     string    `json:"value,omitempty"` // never a secret's
	IsSecret  bool      `json:"isSecret"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func viewVariable(v deploy.VariableView) variableView {
	out := variableView{Name: v.Name, IsSecret: v.IsSecret, UpdatedAt: v.UpdatedAt}
	if !v.IsSecret {
		out.Value = v.Value
	}
	return out
}

type syncView struct {
	ID          string             `json:"id"`
	CommitSHA   string             `json:"commitSha"`
	Source      string             `json:"source,omitempty"`
	Status      string             `json:"status"`
	RequestedAt time.Time          `json:"requestedAt"`
	StartedAt   time.Time          `json:"startedAt"`
	FinishedAt  *time.Time         `json:"finishedAt,omitempty"`
	Error       string             `json:"error,omitempty"`
	Log         []syncLogEntryView `json:"log"`
}

func viewSync(s deploy.SyncRecord) syncView {
	v := syncView{ID: s.ID, CommitSHA: s.CommitSHA, Source: s.Source, Status: s.Status, RequestedAt: s.RequestedAt,
		StartedAt: s.StartedAt, Error: s.Error, Log: make([]syncLogEntryView, 0, len(s.Log))}
	if !s.FinishedAt.IsZero() {
		v.FinishedAt = &s.FinishedAt
	}
	for _, e := range s.Log {
		v.Log = append(v.Log, viewSyncLogEntry(e))
	}
	return v
}

// syncLogEntryView is one diagnostic or outcome in a sync's log.
type syncLogEntryView struct {
	WorkflowID   string `json:"workflowId,omitempty"`
	File         string `json:"file,omitempty"`
	Severity     string `json:"severity"` // error, warning, info
	Rule         string `json:"rule,omitempty"`
	Message      string `json:"message"`
	Line         int    `json:"line,omitempty"`
	Column       int    `json:"column,omitempty"`
	DeploymentID string `json:"deploymentId,omitempty"`
}

func viewSyncLogEntry(e deploy.SyncLogEntry) syncLogEntryView {
	return syncLogEntryView{WorkflowID: e.WorkflowID, File: e.File, Severity: e.Severity, Rule: e.Rule, Message: e.Message,
		Line: e.Line, Column: e.Column, DeploymentID: e.Deployment}
}

// syncLogView is one sync's entries in GET …/logs?kind=sync|build.
type syncLogView struct {
	SyncID    string             `json:"syncId"`
	CommitSHA string             `json:"commitSha"`
	Status    string             `json:"status"`
	Entries   []syncLogEntryView `json:"entries"`
}

type runtimeLogView struct {
	Seq          int64     `json:"seq"`
	InvocationID string    `json:"invocationId"`
	WorkflowID   string    `json:"workflowId"`
	DeploymentID string    `json:"deploymentId"`
	Level        string    `json:"level"`
	Message      string    `json:"message"`
	Status       string    `json:"status,omitempty"`
	DurationMs   float64   `json:"durationMs,omitempty"`
	At           time.Time `json:"at"`
	// Kind tells a workflow's own console line ("console") from the row
	// Flowgate writes with the invocation's outcome ("outcome"), so
	// workflow code cannot pass its lines off as the system's.
	Kind string `json:"kind"`
}

func viewRuntimeLog(l store.RuntimeLog) runtimeLogView {
	v := runtimeLogView{Seq: l.Seq, InvocationID: l.InvocationID, WorkflowID: l.WorkflowID, DeploymentID: l.DeploymentID,
		Level: l.Level, Message: l.Message, At: l.At, Kind: "console"}
	if l.Status != "" {
		v.Kind, v.Status, v.DurationMs = "outcome", l.Status, float64(l.Duration.Microseconds())/1000
	}
	return v
}

type resealRunView struct {
	ID              string     `json:"id"`
	State           string     `json:"state"`
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
	FinishedAt      *time.Time `json:"finishedAt,omitempty"`
	Total           int        `json:"total"`
	Scanned         int        `json:"scanned"`
	Resealed        int        `json:"resealed"`
	Unreadable      int        `json:"unreadable"`
	UnreadableNames []string   `json:"unreadableNames,omitempty"`
	Error           string     `json:"error,omitempty"`
}

func viewResealRun(r store.ResealRun) resealRunView {
	v := resealRunView{ID: r.ID, State: r.State, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Total: r.Total,
		Scanned: r.Scanned, Resealed: r.Resealed, Unreadable: r.Unreadable, UnreadableNames: r.UnreadableNames, Error: r.Error}
	if !r.FinishedAt.IsZero() {
		v.FinishedAt = &r.FinishedAt
	}
	return v
}
