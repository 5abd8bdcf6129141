package sandbox

import (
	"context"

	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Supervisor runs workflows in worker processes.
type Supervisor struct {
	opts Options
}

// NewSupervisor returns a Supervisor; workers start lazily on first use.
func NewSupervisor(opts Options) (*Supervisor, error) {
	return &Supervisor{opts: opts.withDefaults()}, nil
}

// Run is not yet implemented (skeleton).
func (s *Supervisor) Run(ctx context.Context, req *Request) Response {
	return Response{Result: failed(req, workflow.KindInternal, "sandbox: supervisor not implemented yet")}
}

// ReadSettings is not yet implemented (skeleton): it reads in process.
func (s *Supervisor) ReadSettings(ctx context.Context, in project.InspectInput) project.Introspection {
	return project.NewLocalInspector().ReadSettings(ctx, in)
}

// Close stops all workers.
func (s *Supervisor) Close() error { return nil }

// MaybeWorker serves requests and exits when this process was started as
// a worker; otherwise it returns at once. Call it first in main and in
// TestMain of packages whose tests start supervisors.
func MaybeWorker() {}
