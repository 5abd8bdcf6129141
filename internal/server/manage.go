package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

// The management API (bearer = admin token). Handlers are thin: decode,
// call internal/deploy, map its errors, encode.

func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request) {
	envs, err := s.deploy.Environments(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]environmentView, 0, len(envs))
	for _, e := range envs {
		out = append(out, viewEnvironment(e))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"environments": out})
}

type environmentView struct {
	Name            string    `json:"name"`
	PreviewMode     bool      `json:"previewMode"`
	HasRuntimeToken bool      `json:"hasRuntimeToken"`
	CreatedAt       time.Time `json:"createdAt"`
}

func viewEnvironment(e store.Environment) environmentView {
	return environmentView{Name: e.Name, PreviewMode: e.PreviewMode, HasRuntimeToken: e.RuntimeTokenHash != "", CreatedAt: e.CreatedAt}
}

func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request) {
	e, err := s.deploy.Environment(r.Context(), r.PathValue("env"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewEnvironment(e))
}

// patchEnvironment creates the environment if needed and sets its options:
// {"previewMode": true}.
func (s *Server) patchEnvironment(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PreviewMode *bool `json:"previewMode"`
	}
	if !decode(w, r, &body) {
		return
	}
	env := r.PathValue("env")
	if err := s.deploy.EnsureEnvironment(r.Context(), env); err != nil {
		s.fail(w, err)
		return
	}
	if body.PreviewMode != nil {
		if err := s.deploy.SetPreviewMode(r.Context(), env, *body.PreviewMode); err != nil {
			s.fail(w, err)
			return
		}
	}
	s.getEnvironment(w, r)
}

// rotateRuntimeToken makes a new runtime token and shows it once.
func (s *Server) rotateRuntimeToken(w http.ResponseWriter, r *http.Request) {
	env := r.PathValue("env")
	if slices.Contains(s.opts.ConfiguredRuntimeTokens, env) {
		httpjson.Error(w, http.StatusConflict, "configured_token", "this environment's runtime token comes from FLOWGATE_RUNTIME_TOKEN: change it there and restart")
		return
	}
	tok, err := secrets.GenerateToken()
	if err == nil {
		err = s.deploy.EnsureEnvironment(r.Context(), env)
	}
	if err == nil {
		err = s.deploy.SetRuntimeToken(r.Context(), env, tok)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, map[string]string{"environment": env, "runtimeToken": tok,
		"note": "shown once: store it in your auth server's configuration"})
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request) {
	wfs, err := s.deploy.Workflows(r.Context(), r.PathValue("env"))
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]workflowView, 0, len(wfs))
	for _, wf := range wfs {
		out = append(out, viewWorkflow(wf))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"workflows": out})
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

func (s *Server) getWorkflow(w http.ResponseWriter, r *http.Request) {
	wf, err := s.deploy.Workflow(r.Context(), r.PathValue("env"), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewWorkflow(wf))
}

func (s *Server) deleteWorkflow(w http.ResponseWriter, r *http.Request) {
	if err := s.deploy.DeleteWorkflow(r.Context(), r.PathValue("env"), r.PathValue("id"), actor(r)); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
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

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	ds, err := s.deploy.Deployments(r.Context(), r.PathValue("env"), r.PathValue("id"), limit(r, 100))
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]deploymentView, 0, len(ds))
	for _, d := range ds {
		out = append(out, viewDeployment(d))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"deployments": out})
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	d, err := s.deploy.Deployment(r.Context(), r.PathValue("env"), r.PathValue("dep"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewDeployment(d))
}

func (s *Server) listFlips(w http.ResponseWriter, r *http.Request) {
	fs, err := s.deploy.Flips(r.Context(), r.PathValue("env"), r.PathValue("id"), limit(r, 100))
	if err != nil {
		s.fail(w, err)
		return
	}
	type flipView struct {
		From   string    `json:"from,omitempty"`
		To     string    `json:"to,omitempty"`
		Action string    `json:"action"`
		Actor  string    `json:"actor"`
		Reason string    `json:"reason,omitempty"`
		At     time.Time `json:"at"`
	}
	out := make([]flipView, 0, len(fs))
	for _, f := range fs {
		out = append(out, flipView{f.FromDeployment, f.ToDeployment, f.Action, f.Actor, f.Reason, f.At})
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"flips": out})
}

func (s *Server) makeLive(w http.ResponseWriter, r *http.Request) {
	d, err := s.deploy.MakeLive(r.Context(), r.PathValue("env"), r.PathValue("id"), r.PathValue("dep"), actor(r))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewDeployment(d))
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	d, err := s.deploy.Rollback(r.Context(), r.PathValue("env"), r.PathValue("id"), actor(r))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewDeployment(d))
}

func (s *Server) deactivate(w http.ResponseWriter, r *http.Request) {
	if err := s.deploy.Deactivate(r.Context(), r.PathValue("env"), r.PathValue("id"), actor(r)); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.deploy.EncryptionKeys(r.Context(), r.PathValue("env"), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if keys == nil {
		keys = []deploy.KeyInfo{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"keys": keys})
}

// createKey makes a key and shows it once.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	info, key, err := s.deploy.CreateEncryptionKey(r.Context(), r.PathValue("env"), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, map[string]any{"id": info.ID, "active": info.Active, "createdAt": info.CreatedAt,
		"key": key, "note": "shown once: Flowgate keeps only a sealed copy"})
}

func (s *Server) activateKey(w http.ResponseWriter, r *http.Request) {
	s.keyOp(w, r, s.deploy.ActivateEncryptionKey)
}

func (s *Server) deactivateKey(w http.ResponseWriter, r *http.Request) {
	s.keyOp(w, r, s.deploy.DeactivateEncryptionKey)
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	s.keyOp(w, r, s.deploy.DeleteEncryptionKey)
}

func (s *Server) keyOp(w http.ResponseWriter, r *http.Request, op func(ctx context.Context, env, wf, id string) error) {
	if err := op(r.Context(), r.PathValue("env"), r.PathValue("id"), r.PathValue("key")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listVariables(w http.ResponseWriter, r *http.Request) {
	vs, err := s.deploy.Variables(r.Context(), r.PathValue("env"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if vs == nil {
		vs = []deploy.VariableView{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"variables": vs})
}

func (s *Server) getVariable(w http.ResponseWriter, r *http.Request) {
	v, err := s.deploy.Variable(r.Context(), r.PathValue("env"), r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

// putVariable stores {"value": "…", "isSecret": true}; the answer never
// carries a secret's value.
func (s *Server) putVariable(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Value    *string `json:"value"`
		IsSecret bool    `json:"isSecret"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Value == nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", `expected {"value": "…", "isSecret": true|false}`)
		return
	}
	env, name := r.PathValue("env"), r.PathValue("name")
	if err := s.deploy.EnsureEnvironment(r.Context(), env); err != nil {
		s.fail(w, err)
		return
	}
	if err := s.deploy.PutVariable(r.Context(), env, name, *body.Value, body.IsSecret); err != nil {
		s.fail(w, err)
		return
	}
	s.getVariable(w, r)
}

func (s *Server) deleteVariable(w http.ResponseWriter, r *http.Request) {
	if err := s.deploy.DeleteVariable(r.Context(), r.PathValue("env"), r.PathValue("name")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// preview sets a fresh preview password for a deployment and shows it
// with the deployment id: what a tester needs to call the runtime API
// with ?deploy_id= and the X-Flowgate-Preview-Password header.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	env, dep := r.PathValue("env"), r.PathValue("dep")
	pw, err := s.deploy.NewPreviewPassword(r.Context(), env, dep)
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"deploymentId": dep, "password": pw,
		"header": PreviewPasswordHeader, "note": "each call replaces the previous password"})
}

func (s *Server) listSyncs(w http.ResponseWriter, r *http.Request) {
	syncs, err := s.deploy.Syncs(r.Context(), r.PathValue("env"), limit(r, 50))
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]syncView, 0, len(syncs))
	for _, sy := range syncs {
		out = append(out, viewSync(sy))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"syncs": out})
}

func (s *Server) getSync(w http.ResponseWriter, r *http.Request) {
	sy, err := s.deploy.SyncByID(r.Context(), r.PathValue("env"), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewSync(sy))
}

type syncView struct {
	ID          string               `json:"id"`
	CommitSHA   string               `json:"commitSha"`
	Source      string               `json:"source,omitempty"`
	Status      string               `json:"status"`
	RequestedAt time.Time            `json:"requestedAt"`
	StartedAt   time.Time            `json:"startedAt"`
	FinishedAt  *time.Time           `json:"finishedAt,omitempty"`
	Error       string               `json:"error,omitempty"`
	Log         []store.SyncLogEntry `json:"log"`
}

func viewSync(s deploy.SyncRecord) syncView {
	v := syncView{ID: s.ID, CommitSHA: s.CommitSHA, Source: s.Source, Status: s.Status, RequestedAt: s.RequestedAt,
		StartedAt: s.StartedAt, Error: s.Error, Log: s.Log}
	if !s.FinishedAt.IsZero() {
		v.FinishedAt = &s.FinishedAt
	}
	if v.Log == nil {
		v.Log = []store.SyncLogEntry{}
	}
	return v
}

// listLogs serves ?kind=runtime (default) from the runtime log table and
// ?kind=sync|build from the sync logs, filtered by ?workflow=.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) {
	env, wf := r.PathValue("env"), r.URL.Query().Get("workflow")
	switch kind := r.URL.Query().Get("kind"); kind {
	case "", "runtime":
		q := store.LogQuery{Env: env, WorkflowID: wf, InvocationID: r.URL.Query().Get("invocation"), Limit: limit(r, 100)}
		if b := r.URL.Query().Get("before"); b != "" {
			q.BeforeSeq, _ = strconv.ParseInt(b, 10, 64)
		}
		rows, err := s.deploy.RuntimeLogs(r.Context(), q)
		if err != nil {
			s.fail(w, err)
			return
		}
		type logView struct {
			Seq          int64     `json:"seq"`
			InvocationID string    `json:"invocationId"`
			WorkflowID   string    `json:"workflowId"`
			DeploymentID string    `json:"deploymentId"`
			Level        string    `json:"level"`
			Message      string    `json:"message"`
			Status       string    `json:"status,omitempty"`
			DurationMs   float64   `json:"durationMs,omitempty"`
			At           time.Time `json:"at"`
			// Kind tells a workflow's own console line ("console") from the
			// row Flowgate writes with the invocation's outcome ("outcome"),
			// so workflow code cannot pass its lines off as the system's.
			Kind string `json:"kind"`
		}
		out := make([]logView, 0, len(rows))
		for _, l := range rows {
			v := logView{Seq: l.Seq, InvocationID: l.InvocationID, WorkflowID: l.WorkflowID, DeploymentID: l.DeploymentID,
				Level: l.Level, Message: l.Message, At: l.At, Kind: "console"}
			if l.Status != "" {
				v.Kind, v.Status, v.DurationMs = "outcome", l.Status, float64(l.Duration.Microseconds())/1000
			}
			out = append(out, v)
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"logs": out})
	case "sync", "build":
		syncs, err := s.deploy.Syncs(r.Context(), env, limit(r, 20))
		if err != nil {
			s.fail(w, err)
			return
		}
		type syncLog struct {
			SyncID    string               `json:"syncId"`
			CommitSHA string               `json:"commitSha"`
			Status    string               `json:"status"`
			Entries   []store.SyncLogEntry `json:"entries"`
		}
		out := []syncLog{}
		for _, sy := range syncs {
			var es []store.SyncLogEntry
			for _, e := range sy.Log {
				if (wf == "" || e.WorkflowID == wf) && (kind == "sync") != (e.Rule == "build-error") {
					es = append(es, e)
				}
			}
			out = append(out, syncLog{sy.ID, sy.CommitSHA, sy.Status, es})
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"logs": out})
	default:
		httpjson.Error(w, http.StatusBadRequest, "bad_kind", "kind is runtime, build or sync")
	}
}

// fail maps the control plane's errors to statuses; anything unexpected
// is logged and answered without detail.
func (s *Server) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, deploy.ErrNotFound):
		httpjson.Error(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, deploy.ErrConflict):
		httpjson.Error(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, deploy.ErrInvalid):
		httpjson.Error(w, http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, deploy.ErrBadPassword):
		httpjson.Error(w, http.StatusUnauthorized, "bad_preview_password", "wrong or missing preview password")
	case errors.Is(err, deploy.ErrRateLimited):
		w.Header().Set("Retry-After", "900")
		httpjson.Error(w, http.StatusTooManyRequests, "rate_limited", err.Error())
	default:
		s.log.Error("request failed", "err", err)
		httpjson.Error(w, http.StatusInternalServerError, "internal", "internal error (logged)")
	}
}

// decode reads a JSON body holding exactly one object into v, answering
// 413 for a body over the limit and 400 for anything else wrong —
// trailing text included, so nothing half-understood is applied.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("text after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit))
		return false
	case err != nil:
		httpjson.Error(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid JSON body: %v", err))
		return false
	}
	return true
}

func limit(r *http.Request, def int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, 1000)
}

// actor names the management API as the author of a change.
func actor(r *http.Request) deploy.Actor {
	return deploy.Actor{Name: "admin-api", Reason: trunc(r.URL.Query().Get("reason"), 200)}
}

// ---- recording (docs/recording.md) ----

// recordingView is an environment's recording settings and how many calls
// each workflow has recorded.
type recordingView struct {
	recording.Settings
	Recorded map[string]int64 `json:"recorded"`
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	env := r.PathValue("env")
	st, err := s.deploy.RecordingSettings(r.Context(), env)
	if err != nil {
		s.fail(w, err)
		return
	}
	counts, err := s.deploy.RecordingCounts(r.Context(), env)
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, recordingView{Settings: st, Recorded: counts})
}

// putRecording replaces the settings (unset fields take their defaults).
func (s *Server) putRecording(w http.ResponseWriter, r *http.Request) {
	var body recording.Settings
	if !decode(w, r, &body) {
		return
	}
	if _, err := s.deploy.PutRecordingSettings(r.Context(), r.PathValue("env"), body); err != nil {
		s.fail(w, err)
		return
	}
	s.getRecording(w, r)
}

// deleteRecordings deletes every recording of the environment.
func (s *Server) deleteRecordings(w http.ResponseWriter, r *http.Request) {
	n, err := s.deploy.DeleteRecordings(r.Context(), r.PathValue("env"))
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]int64{"deleted": n})
}

// exportRecordings streams the recordings (?workflow= one workflow's) as
// JSON Lines of replay.Recorded, newest first, read page by page.
func (s *Server) exportRecordings(w http.ResponseWriter, r *http.Request) {
	env, wf := r.PathValue("env"), r.URL.Query().Get("workflow")
	if wf != "" && !recording.ValidWorkflowID(wf) {
		httpjson.Error(w, http.StatusBadRequest, "invalid", "workflow ids are 1-128 letters, digits, '-', '_' or '.'")
		return
	}
	s.audit(r, http.StatusOK) // a read, but traffic leaving the service: audited like a change
	writeRecordings(w, r, s.deploy, env, wf, s.log)
}

// writeRecordings writes env's recordings as a JSON Lines download.
// Headers are sent with the first line; a failure after that ends the
// stream short (logged).
func writeRecordings(w http.ResponseWriter, r *http.Request, d *deploy.Service, env, workflowID string, log *slog.Logger) {
	name := env
	if workflowID != "" {
		name += "-" + workflowID
	}
	started := false
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err := d.ExportRecordings(r.Context(), env, workflowID, func(rec replay.Recorded) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Content-Disposition", `attachment; filename="recordings-`+name+`.jsonl"`)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
		}
		return enc.Encode(rec)
	})
	switch {
	case err != nil && !started:
		httpjson.Error(w, http.StatusInternalServerError, "internal", "internal error (logged)")
		log.Error("export recordings", "env", env, "err", err)
	case err != nil:
		log.Warn("export recordings ended early", "env", env, "err", err)
	case !started:
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="recordings-`+name+`.jsonl"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}
}
