package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
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
	ok, err := s.RuntimeTokenOK(r.Context(), env, bearer(r))
	if err != nil {
		s.fail(w, err)
		return
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowgate-runtime"`)
		httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "the runtime API needs the environment's runtime token as a Bearer token")
		return
	}
	event, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
	if err != nil {
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "event_too_large", fmt.Sprintf("the event is larger than %d bytes", MaxEventBytes))
		return
	}
	if err := invoke.CheckEvent(event); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_event", "event "+err.Error())
		return
	}

	var live *store.LiveDeployment
	if dep := r.URL.Query().Get("deploy_id"); dep != "" {
		live, err = s.previewCheck(r.Context(), env, dep, r.Header.Get(PreviewPasswordHeader))
		if err != nil {
			s.fail(w, err)
			return
		}
		if live.Trigger != trig {
			httpjson.Error(w, http.StatusBadRequest, "trigger_mismatch", fmt.Sprintf("deployment %s runs on %s, not %s", dep, live.Trigger, trig))
			return
		}
	} else {
		live, err = s.deploy.LiveFor(r.Context(), env, trig)
		if err != nil {
			s.fail(w, err)
			return
		}
	}
	res, err := s.run(r.Context(), env, trig, live, event, start)
	if err != nil {
		s.fail(w, err)
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}

// RuntimeTokenOK reports whether token is env's runtime token (compared in
// constant time, the answer cached for a second under the token's hash).
// The runtime API and the auth-server adapters both check tokens here.
func (s *Server) RuntimeTokenOK(ctx context.Context, env, token string) (bool, error) {
	tok := sha256.Sum256([]byte(token)) // the cache never holds a token itself
	ok, err := get(s.recent, cacheKey{env, "token", string(tok[:])}, func() (bool, error) {
		return s.deploy.CheckRuntimeToken(ctx, env, token)
	})
	if err != nil && !errors.Is(err, deploy.ErrNotFound) {
		return false, err
	}
	return ok && err == nil, nil
}

// Invoke runs env's live workflow for trig on event exactly as the runtime
// API does (same resolution, metrics and runtime logs); the auth-server
// adapters call it. The event must already have passed invoke.CheckEvent.
func (s *Server) Invoke(ctx context.Context, env, trig string, event []byte) (*workflow.Result, error) {
	start := time.Now()
	live, err := s.deploy.LiveFor(ctx, env, trig)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, env, trig, live, event, start)
}

// run invokes live (nil: nothing is live, the Result is skipped) on event.
func (s *Server) run(ctx context.Context, env, trig string, live *store.LiveDeployment, event []byte, start time.Time) (*workflow.Result, error) {
	req := invoke.Request{Trigger: trig, Event: event, CacheScope: env, AllowHosts: s.opts.AllowHosts}
	if live != nil {
		wf, err := s.workflowOf(ctx, live)
		if err != nil {
			return nil, err
		}
		req.Workflows = []invoke.Workflow{wf}
		if req.Env, err = s.envOf(ctx, env); err != nil {
			return nil, err
		}
		req.EncryptionKey, err = get(s.recent, cacheKey{env, "key", live.WorkflowID}, func() ([]byte, error) {
			return s.deploy.ActiveEncryptionKey(ctx, env, live.WorkflowID)
		})
		var unreadable *deploy.UnreadableKeyError
		if errors.As(err, &unreadable) {
			// Only kinde.secureFetch needs the key: it fails, the rest runs.
			req.EncryptionKeyError, err = unreadable.Error(), nil
		}
		if err != nil {
			return nil, err
		}
	}
	res := invoke.Run(ctx, s.runner, req).Result
	s.metrics.observe(trig, res, time.Since(start))
	if live != nil {
		s.logs.add(runtimeLogs(env, trig, live.DeploymentID, res, start))
		logFailure(s.log, s.failures, env, trig, live.DeploymentID, res, time.Now())
	}
	return res, nil
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
	b, err := s.deploy.Artifact(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", digest, err)
	}
	s.cache.put(digest, b)
	return b, nil
}

func (s *Server) envOf(ctx context.Context, env string) (map[string]bindings.EnvVar, error) {
	return get(s.recent, cacheKey{env, "vars", ""}, func() (map[string]bindings.EnvVar, error) {
		vars, err := s.deploy.EnvForInvocation(ctx, env)
		if err != nil {
			return nil, err
		}
		out := make(map[string]bindings.EnvVar, len(vars))
		for k, v := range vars {
			out[k] = bindings.EnvVar{Value: v.Value, IsSecret: v.IsSecret, Unreadable: v.Unreadable}
		}
		return out, nil
	})
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
	select {
	case s.previewSlots <- struct{}{}:
		defer func() { <-s.previewSlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.deploy.Preview(ctx, env, dep, password)
}
