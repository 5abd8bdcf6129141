package sandbox

import (
	"context"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/outbound"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/workflow"
)

// InProcess runs workflows in this process, on pooled runtimes of the
// runtime package: the fast path, and what a worker process runs inside.
// A Go-fatal error in workflow code (native stack overflow, out of memory)
// ends the whole process; use a Supervisor where that matters.
type InProcess struct {
	limits  runtime.Limits
	inspect *project.LocalInspector
	clients *outbound.Clients // guarded HTTP clients, shared by every run
	gov     *runtime.Governor // the heap is per process: one sampler for every engine
	digests digestMemo

	mu      sync.Mutex
	closed  bool
	engines map[time.Duration]*runtime.Engine // one per wall time in use
	caches  map[string]*bindings.TokenCache   // JWT caches by Request.CacheScope
}

// bounds on the per-runner maps (a handful of wall times and environments
// are normal; a caller that varies them per request must not grow memory).
const (
	maxEngines = 8
	maxScopes  = 256
	maxClients = 64 // HTTP clients, one per allow-list
)

// NewInProcess returns a Runner that runs workflows in this process.
func NewInProcess(opts Options) Runner { return newInProcess(opts) }

func newInProcess(opts Options) *InProcess {
	return &InProcess{
		limits:  opts.Limits,
		inspect: project.NewLocalInspector(),
		clients: outbound.NewClients(maxClients),
		gov:     runtime.NewGovernor(opts.Limits.SampleInterval),
		engines: map[time.Duration]*runtime.Engine{},
		caches:  map[string]*bindings.TokenCache{},
	}
}

// engine returns the engine for a wall time (0 = the limits' own), and
// whether it is a one-off the caller must close: past maxEngines distinct
// wall times, engines are not cached (closing a cached one could fail a run
// that just fetched it).
func (p *InProcess) engine(wall time.Duration) (*runtime.Engine, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false
	}
	if e := p.engines[wall]; e != nil {
		return e, false
	}
	l := p.limits
	if wall > 0 {
		l.WallTime = wall
	}
	e := runtime.New(runtime.Options{Limits: l, Governor: p.gov})
	if len(p.engines) >= maxEngines {
		return e, true
	}
	p.engines[wall] = e
	return e, false
}

// cache returns the JWT cache of a scope.
func (p *InProcess) cache(scope string) *bindings.TokenCache {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.caches[scope]; c != nil {
		return c
	}
	if len(p.caches) >= maxScopes {
		clear(p.caches)
	}
	c := bindings.NewTokenCache()
	p.caches[scope] = c
	return c
}

// Run loads the bundle (cached by digest) and invokes it once.
func (p *InProcess) Run(ctx context.Context, req *Request) Response {
	sum, _ := p.digests.get(req.Code, req.SourceMap)
	return p.run(ctx, req, sum)
}

// run is Run for a bundle whose digest (runtime.Digest) is known.
func (p *InProcess) run(ctx context.Context, req *Request, sum [32]byte) Response {
	eng, oneOff := p.engine(req.WallTime)
	if eng == nil {
		return Response{Result: failed(req, workflow.KindInternal, "sandbox: the runner is closed")}
	}
	if oneOff {
		defer eng.Close()
	}
	prog, err := eng.LoadDigest(sum, req.Code, req.SourceMap)
	if err != nil {
		return Response{Result: failed(req, workflow.KindLoad, err.Error())}
	}
	net := &bindings.NetPolicy{AllowHosts: req.AllowHosts}
	var stubs *httpstub.Transport
	if req.Stubs != nil {
		stubs = httpstub.NewTransport(req.Stubs)
		net = &bindings.NetPolicy{Transport: stubs}
	}
	var rec *outbound.Recorder
	if req.Record {
		rec = outbound.NewRecorder()
		net.Record = rec
	}
	cfg := &bindings.Config{
		Settings:      req.Settings,
		Env:           req.Env,
		EncryptionKey: req.EncryptionKey,
		Net:           net,
		Clients:       p.clients,
		Cache:         p.cache(req.CacheScope),
		Redact:        req.Redact,
	}
	cfg.EncryptionKeyError = req.EncryptionKeyError
	res := eng.Run(ctx, runtime.Invocation{Program: prog, Settings: req.Settings, Event: req.Event, Bindings: cfg})
	out := Response{Result: res}
	if stubs != nil {
		out.Unmatched = stubs.Unmatched()
	}
	if rec != nil {
		out.Fetch = rec.Stubs()
	}
	return out
}

// ReadSettings reads the settings in this process.
func (p *InProcess) ReadSettings(ctx context.Context, in project.InspectInput) project.Introspection {
	return p.inspect.ReadSettings(ctx, in)
}

// Close closes the engines (runs already started finish), the heap
// sampler and idle HTTP connections.
func (p *InProcess) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	for _, e := range p.engines {
		e.Close()
	}
	clear(p.engines)
	clear(p.caches)
	p.clients.Close()
	p.gov.Close()
	return nil
}
