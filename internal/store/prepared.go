package store

import (
	"context"
	"database/sql"
)

// prepared holds statements for a few fixed, hot query texts (the runtime
// log inserts), prepared once when a SQLite database opens: SQLite's
// parser runs in this process, and parsing a 100-row INSERT on every batch
// was about a third of the log writer's CPU. PostgreSQL's driver caches
// statements itself. Read only once built.
type prepared map[string]*sql.Stmt

// fixedQueries are the texts prepared at open.
func fixedQueries() []string {
	return []string{fullChunkQuery, addLogTotalsQuery, addOutcomeMinuteQuery}
}

// prepare builds db's statements. A text that fails to prepare is left
// out: execFixed then runs it as a plain query.
func prepare(ctx context.Context, db *sql.DB) prepared {
	p := prepared{}
	for _, q := range fixedQueries() {
		if st, err := db.PrepareContext(ctx, q); err == nil {
			p[q] = st
		}
	}
	return p
}

// execFixed is exec for one of fixedQueries, through its prepared
// statement (inside a transaction, its connection reuses the statement).
func (q Q) execFixed(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := q.prep[query]
	if !ok {
		return q.exec(ctx, query, args...)
	}
	if tx, ok := q.ex.(*sql.Tx); ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return st.ExecContext(ctx, args...)
}
