package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ConsoleSession is a signed-in person in the web console. The session
// cookie names it; the row decides whether the cookie still works.
type ConsoleSession struct {
	ID    string
	User  string
	Admin bool
	// Perms is the console's own encoding of the person's GitHub roles.
	Perms string
	// GitHubToken is the person's GitHub token, sealed by the console, for
	// checking the roles again; empty for admin-token sessions.
	GitHubToken string
	CheckedAt   time.Time // when Perms was last read from GitHub
	ExpiresAt   time.Time
	Revoked     bool
}

// CreateConsoleSession stores a new session.
func (q Q) CreateConsoleSession(ctx context.Context, s ConsoleSession) error {
	_, err := q.exec(ctx, `INSERT INTO console_sessions (id, user_name, admin, perms, github_token, checked_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.ID, s.User, s.Admin, s.Perms, s.GitHubToken, micros(s.CheckedAt), micros(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create console session: %w", err)
	}
	return nil
}

// ConsoleSession reads a session (ErrNotFound when there is none).
func (q Q) ConsoleSession(ctx context.Context, id string) (ConsoleSession, error) {
	s := ConsoleSession{ID: id}
	var checked, expires int64
	err := q.queryRow(ctx, `SELECT user_name, admin, perms, github_token, checked_at, expires_at, revoked
		FROM console_sessions WHERE id = ?`, id).Scan(&s.User, &s.Admin, &s.Perms, &s.GitHubToken, &checked, &expires, &s.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: console session: %w", err)
	}
	s.CheckedAt, s.ExpiresAt = fromMicros(checked), fromMicros(expires)
	return s, nil
}

// RecheckConsoleSession records the roles read again from GitHub.
func (q Q) RecheckConsoleSession(ctx context.Context, id, perms string, at time.Time) error {
	_, err := q.exec(ctx, `UPDATE console_sessions SET perms = ?, checked_at = ? WHERE id = ?`, perms, micros(at), id)
	if err != nil {
		return fmt.Errorf("store: recheck console session: %w", err)
	}
	return nil
}

// RevokeConsoleSession ends a session for every copy of its cookie and
// forgets its GitHub token.
func (q Q) RevokeConsoleSession(ctx context.Context, id string) error {
	_, err := q.exec(ctx, `UPDATE console_sessions SET revoked = TRUE, github_token = '', perms = '' WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: revoke console session: %w", err)
	}
	return nil
}

// PruneConsoleSessions deletes sessions that expired before a time.
func (q Q) PruneConsoleSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM console_sessions WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune console sessions: %w", err)
	}
	return res.RowsAffected()
}
