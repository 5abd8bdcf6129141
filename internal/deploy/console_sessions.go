package deploy

import (
	"context"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// Console sessions live in the store so that signing out, or losing a role
// on GitHub, ends every copy of a session cookie on every replica.

// CreateConsoleSession stores a new console session.
func (s *Service) CreateConsoleSession(ctx context.Context, cs store.ConsoleSession) error {
	return s.db.CreateConsoleSession(ctx, cs)
}

// ConsoleSession reads a console session (store.ErrNotFound when none).
func (s *Service) ConsoleSession(ctx context.Context, id string) (store.ConsoleSession, error) {
	return s.db.ConsoleSession(ctx, id)
}

// RecheckConsoleSession records a session's roles as read again.
func (s *Service) RecheckConsoleSession(ctx context.Context, id, perms string, at time.Time) error {
	return s.db.RecheckConsoleSession(ctx, id, perms, at)
}

// RevokeConsoleSession ends a console session everywhere.
func (s *Service) RevokeConsoleSession(ctx context.Context, id string) error {
	return s.db.RevokeConsoleSession(ctx, id)
}

// PruneConsoleSessions deletes console sessions expired before a time.
func (s *Service) PruneConsoleSessions(ctx context.Context, before time.Time) (int64, error) {
	return s.db.PruneConsoleSessions(ctx, before)
}
