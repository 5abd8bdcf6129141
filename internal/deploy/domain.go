package deploy

import (
	"context"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// The domain calls the HTTP layer and the GitHub App need besides the
// deployment lifecycle, so that nothing outside deploy reaches into the
// store.

// Environments lists every environment by name.
func (s *Service) Environments(ctx context.Context) ([]Environment, error) {
	return s.db.Environments(ctx)
}

// RuntimeLogs reads runtime log rows (newest first, filtered by q).
func (s *Service) RuntimeLogs(ctx context.Context, q store.LogQuery) ([]store.RuntimeLog, error) {
	return s.db.RuntimeLogs(ctx, q)
}

// AppendRuntimeLogs writes a batch of runtime log rows in one transaction.
func (s *Service) AppendRuntimeLogs(ctx context.Context, batch []store.RuntimeLog) error {
	return s.db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, batch) })
}

// Ready checks the database answers and carries this binary's schema.
func (s *Service) Ready(ctx context.Context) error {
	_, err := s.db.SchemaVersion(ctx)
	return err
}

// SourceFor is the repository (or directory) an environment syncs from;
// ErrNotFound when it has never synced.
func (s *Service) SourceFor(ctx context.Context, env string) (store.Source, error) {
	return s.db.SourceFor(ctx, env)
}

// PruneDeliveries forgets webhook delivery ids recorded before a time.
func (s *Service) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	return s.db.PruneDeliveries(ctx, before)
}
