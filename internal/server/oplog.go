package server

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/workflow"
)

// What operators see in the service log besides requests: failed
// invocations (sampled per environment, workflow and error kind, so a
// workflow failing on every call writes a line every few seconds, not
// one per call) and an audit line per management change.

// failureSampler lets through the first failure of a key and then at most
// one per interval, counting the ones it held back.
type failureSampler struct {
	mu       sync.Mutex
	interval time.Duration
	keys     map[failureKey]*sampled
}

type failureKey struct{ env, workflow, kind string }

type sampled struct {
	last       time.Time
	suppressed int
}

// maxSampledKeys bounds the sampler's memory; past it the map is reset.
const maxSampledKeys = 10000

func newFailureSampler(interval time.Duration) *failureSampler {
	return &failureSampler{interval: interval, keys: map[failureKey]*sampled{}}
}

// allow reports whether this failure is logged, and how many of its key
// were held back since the last logged one.
func (f *failureSampler) allow(k failureKey, now time.Time) (bool, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.keys[k]
	if !ok {
		if len(f.keys) >= maxSampledKeys {
			f.keys = map[failureKey]*sampled{}
		}
		f.keys[k] = &sampled{last: now}
		return true, 0
	}
	if now.Sub(s.last) < f.interval {
		s.suppressed++
		return false, 0
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}

// logFailure writes a failed invocation's line when the sampler lets it.
// The error message was redacted by the sandbox before it got here.
func logFailure(log *slog.Logger, f *failureSampler, env, trigger, deployment string, res *workflow.Result, now time.Time) {
	if res == nil || res.Error == nil || res.Status == "succeeded" {
		return
	}
	k := failureKey{env, res.WorkflowID, string(res.Error.Kind)}
	ok, held := f.allow(k, now)
	if !ok {
		return
	}
	log.Warn("invocation failed", "env", env, "trigger", trigger, "workflow_id", res.WorkflowID, "deployment_id", deployment,
		"kind", res.Error.Kind, "message", trunc(res.Error.Message, 300), "duration_ms", res.DurationMs, "not_logged_since", held)
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// audit writes one line per management change (who, what, where, outcome).
func (s *Server) audit(r *http.Request, status int) {
	s.log.Info("audit", "actor", "admin-api", "via", "api", "action", r.Pattern, "env", r.PathValue("env"),
		"workflow_id", r.PathValue("id"), "target", firstNonEmpty(r.PathValue("dep"), r.PathValue("key"), r.PathValue("name")),
		"status", status)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
