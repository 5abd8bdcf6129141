// Package server is Flowgate's HTTP surface: the runtime API auth servers
// call on every trigger, the management API, health, readiness and
// Prometheus metrics. It holds no state of its own beyond caches: the
// deployment lifecycle is internal/deploy's, workflow code runs in a
// sandbox.Runner.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowgate/flowgate/internal/adapters/hydra"
	"github.com/flowgate/flowgate/internal/adapters/kratos"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
)

// Limits on what a caller can send.
const (
	MaxEventBytes    = 1 << 20   // a trigger's event
	MaxManageBytes   = 128 << 10 // a management request body
	DefaultRetention = 7 * 24 * time.Hour
)

// Options configure a Server. Deploy and Runner are required.
type Options struct {
	Deploy *deploy.Service
	Runner sandbox.Runner
	// AdminToken is the management API's bearer token (required for it to
	// answer: an empty token refuses every management call).
	AdminToken string
	// Webhook serves POST /webhooks/github when the GitHub integration is on.
	Webhook http.Handler
	// Routes are more handlers by ServeMux pattern (the GitHub App setup
	// pages); they guard themselves.
	Routes map[string]http.Handler
	// Jobs queues durable jobs (the re-seal); nil refuses POST /api/v1/secrets/reseal.
	Jobs deploy.Enqueuer
	// Ready reports whether the service can take work (database reachable,
	// jobs running); nil means ready when the database answers.
	Ready func(ctx context.Context) error
	// ConfiguredRuntimeTokens are environments whose runtime token comes from
	// configuration (FLOWGATE_RUNTIME_TOKEN): the API refuses to rotate them,
	// since a restart would silently bring the configured one back.
	ConfiguredRuntimeTokens []string
	// AllowHosts are private HOST[:PORT]s kinde.fetch may reach (development).
	AllowHosts []string
	// LogBuffer bounds runtime log rows waiting to be written (default
	// 8192); past it rows are dropped and counted, never waited for.
	LogBuffer int
	// LogRetention is how long runtime logs are kept (default 7 days).
	LogRetention time.Duration
	// LogQuotaRows bounds the runtime log rows kept per environment
	// (default DefaultLogQuotaRows) and LogQuotaBytes their message bytes
	// (default DefaultLogQuotaBytes); past either the oldest go first,
	// counted in flowgate_runtime_logs_trimmed_total.
	LogQuotaRows  int
	LogQuotaBytes int64
	Logger        *slog.Logger
	// Registry receives the metrics (default a new registry).
	Registry *prometheus.Registry
}

// Server is the HTTP handler. Create it with New; Close flushes the
// runtime logs.
type Server struct {
	opts    Options
	deploy  *deploy.Service
	runner  sandbox.Runner
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	logs    *logWriter
	rec     *recorder // sampled trigger calls, recorded off the request path
	cache   *codeCache

	previewSlots chan struct{}    // bounds concurrent preview password checks
	adminFails   *secrets.Limiter // wrong admin tokens per address
	failures     *failureSampler
	views        sync.Map    // environment -> *envView, derived from its latest snapshot
	draining     atomic.Bool // shutting down: /readyz answers 503
}

// New builds a Server.
func New(opts Options) (*Server, error) {
	if opts.Deploy == nil || opts.Runner == nil {
		return nil, errors.New("server: Deploy and Runner are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.LogRetention <= 0 {
		opts.LogRetention = DefaultRetention
	}
	s := &Server{
		opts:    opts,
		deploy:  opts.Deploy,
		runner:  opts.Runner,
		log:     opts.Logger,
		mux:     http.NewServeMux(),
		metrics: newMetrics(opts.Registry),
		cache:   newCodeCache(64 << 20),

		previewSlots: make(chan struct{}, 2),
		failures:     newFailureSampler(10 * time.Second),
		adminFails:   secrets.NewLimiter(adminGuessing),
	}
	s.logs = newLogWriter(opts.Deploy, logLimits{buffer: opts.LogBuffer, retention: opts.LogRetention,
		quotaRows: opts.LogQuotaRows, quotaBytes: opts.LogQuotaBytes}, s.metrics.logsDropped, s.metrics.logsTrimmed, opts.Logger)
	s.rec = newRecorder(opts.Deploy, opts.Registry, opts.Logger)
	s.metrics.snapshots(opts.Registry, opts.Deploy)
	s.routes()
	return s, nil
}

// SyncFinished counts a finished sync by outcome in the metrics.
func (s *Server) SyncFinished(status string) { s.metrics.syncs.WithLabelValues(status).Inc() }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "path", r.URL.Path, "panic", v)
			httpjson.Error(w, http.StatusInternalServerError, "internal", "internal error")
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// Close flushes the runtime logs and recordings still queued (bounded by ctx).
func (s *Server) Close(ctx context.Context) error {
	return errors.Join(s.logs.close(ctx), s.rec.close(ctx))
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", literalPath("/metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})))
	if s.opts.Webhook != nil {
		m.Handle("POST /webhooks/github", s.opts.Webhook)
	}
	for pattern, h := range s.opts.Routes {
		m.Handle(pattern, h)
	}

	const env = "/api/v1/environments/{env}"
	m.HandleFunc("POST "+env+"/triggers/{trigger}", s.trigger)
	// Auth-server adapters: they check the runtime token and run workflows
	// through Invoke, the runtime API's own path.
	m.Handle(hydra.Path, hydra.New(s, s.log))
	m.Handle(kratos.Path, kratos.New(s, s.log))

	admin := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, s.admin(h)) }
	admin("GET /api/v1/environments", s.listEnvironments)
	admin("GET "+env, s.getEnvironment)
	admin("PATCH "+env, s.patchEnvironment)
	admin("POST "+env+"/runtime-token", s.rotateRuntimeToken)
	admin("GET "+env+"/workflows", s.listWorkflows)
	admin("GET "+env+"/workflows/{id}", s.getWorkflow)
	admin("DELETE "+env+"/workflows/{id}", s.deleteWorkflow)
	admin("GET "+env+"/workflows/{id}/deployments", s.listDeployments)
	admin("GET "+env+"/workflows/{id}/flips", s.listFlips)
	admin("POST "+env+"/workflows/{id}/deployments/{dep}/make-live", s.makeLive)
	admin("POST "+env+"/workflows/{id}/rollback", s.rollback)
	admin("POST "+env+"/workflows/{id}/deactivate", s.deactivate)
	admin("GET "+env+"/workflows/{id}/encryption-keys", s.listKeys)
	admin("POST "+env+"/workflows/{id}/encryption-keys", s.createKey)
	admin("POST "+env+"/workflows/{id}/encryption-keys/{key}/activate", s.activateKey)
	admin("POST "+env+"/workflows/{id}/encryption-keys/{key}/deactivate", s.deactivateKey)
	admin("DELETE "+env+"/workflows/{id}/encryption-keys/{key}", s.deleteKey)
	admin("GET "+env+"/variables", s.listVariables)
	admin("GET "+env+"/variables/{name}", s.getVariable)
	admin("PUT "+env+"/variables/{name}", s.putVariable)
	admin("DELETE "+env+"/variables/{name}", s.deleteVariable)
	admin("GET "+env+"/deployments/{dep}", s.getDeployment)
	admin("GET "+env+"/deployments/{dep}/artifact", s.getArtifact)
	admin("GET "+env+"/deployments/{dep}/preview", s.preview)
	admin("POST "+env+"/deployments/{dep}/preview", s.preview)
	admin("GET "+env+"/syncs", s.listSyncs)
	admin("GET "+env+"/syncs/{id}", s.getSync)
	admin("GET "+env+"/logs", s.listLogs)
	admin("GET "+env+"/recording", s.getRecording)
	admin("PUT "+env+"/recording", s.putRecording)
	admin("DELETE "+env+"/recordings", s.deleteRecordings)
	admin("GET "+env+"/recordings/export", s.exportRecordings)
	admin("GET "+env+"/github-repository", s.getGitHubRepository)
	admin("PUT "+env+"/github-repository", s.putGitHubRepository)
	admin("POST /api/v1/secrets/reseal", s.startReseal)
	admin("GET /api/v1/secrets/reseal", s.getReseal)
	admin("GET /api/v1/secrets/reseal/{id}", s.getReseal)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "no such endpoint: see docs/api.md")
	})
}

// SetDraining makes /readyz answer 503 from now on: the service is
// shutting down and load balancers should stop sending (requests that
// still arrive are served).
func (s *Server) SetDraining() { s.draining.Store(true) }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		httpjson.Error(w, http.StatusServiceUnavailable, "draining", "shutting down")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var err error
	if s.opts.Ready != nil {
		err = s.opts.Ready(ctx)
	} else {
		err = s.deploy.Ready(ctx)
	}
	if err != nil {
		// The driver's text (host names, users, paths) is for the log only:
		// this endpoint answers without authentication.
		s.log.Warn("not ready", "err", err)
		httpjson.Error(w, http.StatusServiceUnavailable, "not_ready", "not ready: the database cannot be reached")
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready"})
}

// admin wraps a management handler: the admin bearer token, compared in
// constant time, and a bounded body.
func (s *Server) admin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, who := bearer(r), secrets.AddressKey(r.RemoteAddr)
		if !s.adminFails.Allow(who) {
			w.Header().Set("Retry-After", "900")
			httpjson.Error(w, http.StatusTooManyRequests, "rate_limited", "too many wrong admin tokens from this address: wait 15 minutes")
			return
		}
		if s.opts.AdminToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.AdminToken)) != 1 {
			if tok != "" {
				s.adminFails.Fail(who)
				s.log.Warn("management API: wrong admin token", "remote", who)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="flowgate-admin"`)
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "the management API needs the admin token as a Bearer token")
			return
		}
		if !validName(r.PathValue("env")) && r.PathValue("env") != "" {
			httpjson.Error(w, http.StatusBadRequest, "bad_environment", "environment names are 1-64 letters, digits, '-' or '_'")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxManageBytes)
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		// GET …/preview mints a password: an action, audited like the POST.
		if r.Method != http.MethodGet || strings.HasSuffix(r.Pattern, "/preview") {
			s.deploy.InvalidateSnapshot(r.PathValue("env")) // this replica serves the change at once
			s.audit(r, sw.code)
		}
	})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// validName accepts environment names: 1-64 letters, digits, '-', '_'.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// literalPath serves h only when the path is sent exactly as path: the mux
// also routes escaped spellings (/%6Detrics) here, which a proxy rule that
// keeps the path from the public (deploy/terraform) would not recognise.
func literalPath(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != path {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
