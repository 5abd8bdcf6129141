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
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// outsideReadTimeout bounds what the trigger path may still read outside
// memory — a bundle not cached yet, a preview's password check — so a
// black-holed database or S3 never holds a call indefinitely.
const outsideReadTimeout = 5 * time.Second

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
	// One in-memory snapshot answers the token, the live deployment, the
	// variables and the key: the database is read only to refresh it.
	snap, err := s.deploy.Snapshot(r.Context(), env)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	if !snap.CheckToken(bearer(r)) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowgate-runtime"`)
		httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "the runtime API needs the environment's runtime token as a Bearer token")
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

	var live *store.LiveDeployment
	dep := r.URL.Query().Get("deploy_id")
	preview := dep != ""
	if preview {
		live, err = s.previewCheck(r.Context(), env, dep, r.Header.Get(PreviewPasswordHeader))
		if errors.Is(err, context.DeadlineExceeded) {
			s.unavailable(w, err)
			return
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		if live.Trigger != trig {
			httpjson.Error(w, http.StatusBadRequest, "trigger_mismatch", fmt.Sprintf("deployment %s runs on %s, not %s", dep, live.Trigger, trig))
			return
		}
	} else {
		live = snap.Live(trig)
	}
	res, err := s.run(r.Context(), snap, trig, live, preview, event, start)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}

// RuntimeTokenOK reports whether token is env's runtime token (compared in
// constant time against the environment's in-memory snapshot). The runtime
// API and the auth-server adapters both check tokens here.
func (s *Server) RuntimeTokenOK(ctx context.Context, env, token string) (bool, error) {
	snap, err := s.deploy.Snapshot(ctx, env)
	if err != nil {
		return false, err
	}
	return snap.CheckToken(token), nil
}

// Invoke runs env's live workflow for trig on event exactly as the runtime
// API does (same snapshot, metrics and runtime logs); the auth-server
// adapters call it. The event must already have passed invoke.CheckEvent.
func (s *Server) Invoke(ctx context.Context, env, trig string, event []byte) (*workflow.Result, error) {
	start := time.Now()
	snap, err := s.deploy.Snapshot(ctx, env)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, snap, trig, snap.Live(trig), false, event, start)
}

// run invokes live (nil: nothing is live, the Result is skipped) on event
// with the variables and key of snap. A preview's key is read outside the
// snapshot (a previewed workflow may have nothing live).
func (s *Server) run(ctx context.Context, snap *deploy.Snapshot, trig string, live *store.LiveDeployment, preview bool, event []byte, start time.Time) (*workflow.Result, error) {
	env := snap.Env
	req := invoke.Request{Trigger: trig, Event: event, CacheScope: env, AllowHosts: s.opts.AllowHosts}
	if live != nil {
		view := s.viewOf(snap)
		wf, err := view.workflow(ctx, s, live)
		if err != nil {
			return nil, err
		}
		req.Workflows = []invoke.Workflow{wf}
		req.Env = view.vars
		if preview {
			kctx, cancel := context.WithTimeout(ctx, outsideReadTimeout)
			req.EncryptionKey, err = s.deploy.ActiveEncryptionKey(kctx, env, live.WorkflowID)
			cancel()
			var unreadable *deploy.UnreadableKeyError
			if errors.As(err, &unreadable) {
				req.EncryptionKeyError, err = unreadable.Error(), nil
			}
			if err != nil {
				return nil, err
			}
		} else {
			// Only kinde.secureFetch needs the key: an unreadable one fails
			// that call, the rest runs.
			req.EncryptionKey, req.EncryptionKeyError = snap.Key(live.WorkflowID), snap.KeyError(live.WorkflowID)
		}
	}
	rec := s.rec.sample(snap, live, preview) // recording (recorder.go): decided before the run, queued after it
	req.Record = rec != nil
	resp := invoke.Run(ctx, s.runner, req)
	res := resp.Result
	s.rec.add(env, rec, req, resp)
	s.metrics.observe(trig, res, time.Since(start))
	if live != nil {
		s.logs.add(runtimeLogs(env, trig, live.DeploymentID, res, start))
		logFailure(s.log, s.failures, env, trig, live.DeploymentID, res, time.Now())
	}
	return res, nil
}

// envView is what the handler derives once per snapshot: the variables
// in the runner's form and each live workflow's settings and code.
type envView struct {
	snap *deploy.Snapshot
	vars map[string]bindings.EnvVar

	mu  sync.Mutex
	wfs map[string]invoke.Workflow // by deployment id
}

// viewOf returns the view of snap, deriving it when snap is new.
func (s *Server) viewOf(snap *deploy.Snapshot) *envView {
	if v, ok := s.views.Load(snap.Env); ok && v.(*envView).snap == snap {
		return v.(*envView)
	}
	vars := make(map[string]bindings.EnvVar, len(snap.Vars()))
	for k, v := range snap.Vars() {
		vars[k] = bindings.EnvVar{Value: v.Value, IsSecret: v.IsSecret, Unreadable: v.Unreadable}
	}
	v := &envView{snap: snap, vars: vars, wfs: map[string]invoke.Workflow{}}
	s.views.Store(snap.Env, v)
	return v
}

// workflow returns a deployment's settings and code, loaded once per view
// (preview deployments are not kept: each needs its password anyway).
func (v *envView) workflow(ctx context.Context, s *Server, live *store.LiveDeployment) (invoke.Workflow, error) {
	v.mu.Lock()
	wf, ok := v.wfs[live.DeploymentID]
	v.mu.Unlock()
	if ok {
		return wf, nil
	}
	wf, err := s.workflowOf(ctx, live)
	if err != nil {
		return wf, err
	}
	if l := v.snap.Live(live.Trigger); l != nil && l.DeploymentID == live.DeploymentID {
		v.mu.Lock()
		v.wfs[live.DeploymentID] = wf
		v.mu.Unlock()
	}
	return wf, nil
}

// workflowOf loads a deployment's settings and bundle (cached by digest:
// artifacts are immutable).
func (s *Server) workflowOf(ctx context.Context, live *store.LiveDeployment) (invoke.Workflow, error) {
	var wf invoke.Workflow
	if err := json.Unmarshal(live.Settings, &wf.Settings); err != nil {
		return wf, fmt.Errorf("deployment %s settings: %w", live.DeploymentID, err)
	}
	var err error
	if wf.Code, err = s.artifact(ctx, live.BundleDigest); err != nil {
		return wf, err
	}
	if live.SourceMapDigest != "" {
		if wf.SourceMap, err = s.artifact(ctx, live.SourceMapDigest); err != nil {
			return wf, err
		}
	}
	return wf, nil
}

func (s *Server) artifact(ctx context.Context, digest string) ([]byte, error) {
	if b, ok := s.cache.get(digest); ok {
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, outsideReadTimeout)
	defer cancel()
	b, err := s.deploy.Artifact(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", digest, err)
	}
	s.cache.put(digest, b)
	return b, nil
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

// codeCache keeps recently used artifacts in memory, bounded by bytes.
type codeCache struct {
	mu    sync.Mutex
	max   int
	size  int
	items map[string][]byte
	order []string // insertion order, for eviction
}

func newCodeCache(max int) *codeCache { return &codeCache{max: max, items: map[string][]byte{}} }

func (c *codeCache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.items[k]
	return b, ok
}

func (c *codeCache) put(k string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok || len(b) > c.max {
		return
	}
	for c.size+len(b) > c.max && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.size -= len(c.items[old])
		delete(c.items, old)
	}
	c.items[k] = b
	c.order = append(c.order, k)
	c.size += len(b)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// preview checks a preview password. The check is a deliberately slow,
// memory-hard hash: at most two run at once, so a burst of guesses can
// neither exhaust memory nor slip past the failure count together.
func (s *Server) previewCheck(ctx context.Context, env, dep, password string) (*store.LiveDeployment, error) {
	ctx, cancel := context.WithTimeout(ctx, outsideReadTimeout)
	defer cancel()
	select {
	case s.previewSlots <- struct{}{}:
		defer func() { <-s.previewSlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.deploy.Preview(ctx, env, dep, password)
}
