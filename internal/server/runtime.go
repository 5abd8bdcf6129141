package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// PreviewPasswordHeader carries a deployment's preview password.
const PreviewPasswordHeader = "X-Flowgate-Preview-Password"

// trigger serves POST /api/v1/environments/{env}/triggers/{trigger}: the
// environment's live workflow for the trigger (or, with ?deploy_id= and its
// preview password, that deployment) runs on the event in the body.
func (s *Server) trigger(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	env, trig := r.PathValue("env"), r.PathValue("trigger")
	if !validName(env) {
		httpjson.Error(w, http.StatusBadRequest, "bad_environment", "environment names are 1-64 letters, digits, '-' or '_'")
		return
	}
	if !workflow.IsTrigger(trig) {
		httpjson.Error(w, http.StatusNotFound, "unknown_trigger", fmt.Sprintf("%q is not a trigger Flowgate knows", trunc(trig, 80)))
		return
	}
	var preview *deploy.Preview
	if dep := r.URL.Query().Get("deploy_id"); dep != "" {
		preview = &deploy.Preview{DeploymentID: dep, Password: r.Header.Get(PreviewPasswordHeader)}
	}
	// The token is checked first: nothing else is read for a caller
	// without it. The live path is answered from memory.
	inv, err := s.deploy.Resolve(r.Context(), env, trig, bearer(r), preview)
	if err != nil {
		s.resolveFailed(w, err)
		return
	}
	event, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
	if err != nil {
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "event_too_large", fmt.Sprintf("the event is larger than %d bytes", MaxEventBytes))
		return
	}
	if !isJSONObject(event) { // the slow check only to say where the event is wrong
		msg := "event is not a JSON object"
		if err := invoke.CheckEvent(event); err != nil {
			msg = "event " + err.Error()
		}
		httpjson.Error(w, http.StatusBadRequest, "bad_event", msg)
		return
	}
	httpjson.Write(w, http.StatusOK, s.run(r.Context(), inv, event, start))
}

// resolveFailed answers a trigger call deploy.Resolve refused.
func (s *Server) resolveFailed(w http.ResponseWriter, err error) {
	var mismatch *deploy.TriggerMismatchError
	switch {
	case errors.Is(err, deploy.ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowgate-runtime"`)
		httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "the runtime API needs the environment's runtime token as a Bearer token")
	case errors.As(err, &mismatch):
		httpjson.Error(w, http.StatusBadRequest, "trigger_mismatch", mismatch.Error())
	case errors.Is(err, deploy.ErrNotFound), errors.Is(err, deploy.ErrBadPassword), errors.Is(err, deploy.ErrRateLimited),
		errors.Is(err, deploy.ErrConflict), errors.Is(err, deploy.ErrInvalid):
		s.fail(w, err)
	default:
		s.unavailable(w, err)
	}
}

// RuntimeTokenOK reports whether token is env's runtime token (compared in
// constant time against the environment's in-memory snapshot). The runtime
// API and the auth-server adapters both check tokens here.
func (s *Server) RuntimeTokenOK(ctx context.Context, env, token string) (bool, error) {
	return s.deploy.CheckToken(ctx, env, token)
}

// Invoke runs env's live workflow for trig on event exactly as the runtime
// API does (same snapshot, metrics and runtime logs); the auth-server
// adapters call it after RuntimeTokenOK. The event must already have
// passed invoke.CheckEvent.
func (s *Server) Invoke(ctx context.Context, env, trig string, event []byte) (*workflow.Result, error) {
	start := time.Now()
	inv, err := s.deploy.ResolveLive(ctx, env, trig)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, inv, event, start), nil
}

// run runs a resolved invocation on event (nothing live: the Result is
// skipped) and records its metrics and runtime logs.
func (s *Server) run(ctx context.Context, inv *deploy.Invocation, event []byte, start time.Time) *workflow.Result {
	req := invoke.Request{Trigger: inv.Trigger, Event: event, CacheScope: inv.Env, AllowHosts: s.opts.AllowHosts}
	if inv.Deployment != nil {
		req.Workflows = []invoke.Workflow{{Settings: inv.Settings, Code: inv.Code, SourceMap: inv.SourceMap}}
		req.Env, req.EncryptionKey, req.EncryptionKeyError = inv.Vars, inv.Key, inv.KeyError
	}
	rec := s.rec.sample(inv) // recording (recorder.go): decided before the run, queued after it
	req.Record = rec != nil
	resp := invoke.Run(ctx, s.runner, req)
	res := resp.Result
	s.rec.add(inv.Env, rec, req, resp)
	s.metrics.observe(inv.Trigger, res, time.Since(start))
	if d := inv.Deployment; d != nil {
		s.logs.add(runtimeLogs(inv.Env, inv.Trigger, d.DeploymentID, res, start))
		logFailure(s.log, s.failures, inv.Env, inv.Trigger, d.DeploymentID, res, time.Now())
	}
	return res
}

// unavailable answers a trigger call that found no usable runtime state
// (the database is away and nothing recent is in memory). The cause is
// logged once per outage by deploy, never here per call, and the driver's
// text is never sent.
func (s *Server) unavailable(w http.ResponseWriter, err error) {
	if !errors.Is(err, deploy.ErrUnavailable) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.fail(w, err)
		return
	}
	w.Header().Set("Retry-After", "1")
	httpjson.Error(w, http.StatusServiceUnavailable, "unavailable", "the environment's runtime state cannot be read right now; try again")
}

// runtimeLogs turns an invocation into log rows: one per console line and
// a last one with the outcome. Every text was already redacted by the
// bindings (secrets, passwords).
func runtimeLogs(env, trig, dep string, res *workflow.Result, at time.Time) []store.RuntimeLog {
	id := newInvocationID()
	base := store.RuntimeLog{InvocationID: id, Env: env, WorkflowID: res.WorkflowID, DeploymentID: dep, Trigger: trig, At: at}
	rows := make([]store.RuntimeLog, 0, len(res.Logs)+1)
	for _, l := range res.Logs {
		row := base // console rows carry no status: only the outcome row does
		row.Level, row.Message = l.Level, l.Message
		rows = append(rows, row)
	}
	last := base
	last.Status, last.Duration = res.Status, time.Duration(res.DurationMs*float64(time.Millisecond))
	last.Level, last.Message = "info", "invocation "+res.Status
	if res.Error != nil {
		last.Level = "error"
		last.Message = fmt.Sprintf("invocation failed (%s): %s", res.Error.Kind, res.Error.Message)
	}
	return append(rows, last)
}

// isJSONObject reports whether b is one JSON object (surrounding white
// space allowed), without decoding it.
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

func newInvocationID() string {
	var b [12]byte
	rand.Read(b[:])
	return "inv_" + hex.EncodeToString(b[:])
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
