package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/store"
)

// Excluded names the tables a migration never carries, and why. Every other
// table found in the source schema is carried, so tables added by later
// migrations move without code changes.
var excludedPrefixes = map[string]string{
	"schema_migrations": "each store records its own schema version; both sides must be at the same version",
	"sqlite_":           "SQLite's internal bookkeeping",
	"river_":            "River's job queue is drained, not carried: the old process finishes its jobs, and a sync that was still queued is requested again by the next push or sync call",
}

// ExcludedReason says why a table is not carried, or "" when it is.
func ExcludedReason(table string) string {
	for p, why := range excludedPrefixes {
		if table == p || strings.HasSuffix(p, "_") && strings.HasPrefix(table, p) {
			return why
		}
	}
	return ""
}

// column is one column of a table, with what the copy must know of its type.
type column struct {
	name     string
	kind     string // "bool", "int", "bytes", "text" or "" (copied as read)
	identity bool   // PostgreSQL GENERATED … AS IDENTITY
}

// table is one carried table.
type table struct {
	name string
	cols []column
	pk   []string
	refs []string // tables its foreign keys point at
}

func (t table) col(name string) (column, bool) {
	for _, c := range t.cols {
		if c.name == name {
			return c, true
		}
	}
	return column{}, false
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// listTables reads every table of the schema (carried or not), sorted by name.
func listTables(ctx context.Context, q querier, d store.Dialect) ([]string, error) {
	var query string
	if d == store.Postgres {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	} else {
		query = `SELECT name FROM sqlite_master WHERE type = 'table'`
	}
	names, err := strings1(ctx, q, query)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

func strings1(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// describe reads a table's columns, primary key and foreign keys.
func describe(ctx context.Context, q querier, d store.Dialect, name string) (table, error) {
	t := table{name: name}
	if d == store.Postgres {
		rows, err := q.QueryContext(ctx, `SELECT column_name, data_type, is_identity FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, name)
		if err != nil {
			return t, err
		}
		for rows.Next() {
			var c column
			var typ, ident string
			if err := rows.Scan(&c.name, &typ, &ident); err != nil {
				rows.Close()
				return t, err
			}
			c.kind = kindOf(typ)
			c.identity = ident == "YES"
			t.cols = append(t.cols, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return t, err
		}
		if t.pk, err = strings1(ctx, q, `SELECT kcu.column_name FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage kcu
			  ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema AND tc.table_name = kcu.table_name
			WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1
			ORDER BY kcu.ordinal_position`, name); err != nil {
			return t, err
		}
		if t.refs, err = strings1(ctx, q, `SELECT DISTINCT ccu.table_name FROM information_schema.table_constraints tc
			JOIN information_schema.constraint_column_usage ccu
			  ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema
			WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1`, name); err != nil {
			return t, err
		}
		return t, nil
	}
	// Table names come from sqlite_master; quoting keeps any name inert.
	rows, err := q.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?)`, name)
	if err != nil {
		return t, err
	}
	type pkcol struct {
		name string
		pos  int
	}
	var pks []pkcol
	for rows.Next() {
		var c column
		var typ string
		var pk int
		if err := rows.Scan(&c.name, &typ, &pk); err != nil {
			rows.Close()
			return t, err
		}
		c.kind = kindOf(typ)
		t.cols = append(t.cols, c)
		if pk > 0 {
			pks = append(pks, pkcol{c.name, pk})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t, err
	}
	sort.Slice(pks, func(i, j int) bool { return pks[i].pos < pks[j].pos })
	for _, p := range pks {
		t.pk = append(t.pk, p.name)
	}
	t.refs, err = strings1(ctx, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, name)
	return t, err
}

func kindOf(typ string) string {
	switch t := strings.ToLower(typ); {
	case t == "boolean" || t == "bool":
		return "bool"
	case strings.Contains(t, "int"):
		return "int"
	case t == "bytea" || t == "blob":
		return "bytes"
	case strings.Contains(t, "text") || strings.Contains(t, "char"):
		return "text"
	}
	return ""
}

// foreignKeyOrder sorts tables so that every table comes after the tables
// its foreign keys point at (ties by name, so plans read the same each run).
func foreignKeyOrder(ts []table) ([]table, error) {
	byName := map[string]table{}
	for _, t := range ts {
		byName[t.name] = t
	}
	var out []table
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		t, ok := byName[name]
		if !ok {
			return fmt.Errorf("table %s has a foreign key to %s, which is not carried", from, name)
		}
		switch state[name] {
		case 1:
			return fmt.Errorf("foreign keys form a cycle through %s", name)
		case 2:
			return nil
		}
		state[name] = 1
		refs := append([]string(nil), t.refs...)
		sort.Strings(refs)
		for _, r := range refs {
			if r == name {
				continue
			}
			if err := visit(r, name); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, t)
		return nil
	}
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, t.name)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := visit(n, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
