package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowgate/flowgate/internal/store"
)

// maxParams keeps a batch under SQLite's bound on parameters per statement
// (32766) and PostgreSQL's (65535).
const (
	maxParams    = 30000
	maxBatchRows = 1000
)

type writer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type copier struct {
	src        querier
	srcDialect store.Dialect
	dst        *sql.DB
	w          writer        // where rows are written: dst, or one PostgreSQL connection
	pool       *pgxpool.Pool // PostgreSQL destination: COPY into empty tables
	dstDialect store.Dialect
	dry        bool
	log        io.Writer
}

// table brings one destination table to exactly the source's rows.
func (c copier) table(ctx context.Context, t table) (TableReport, error) {
	tr := TableReport{Name: t.name}
	sd, err := tableDigest(ctx, c.src, t)
	if err != nil {
		return tr, fmt.Errorf("read source: %w", err)
	}
	dd, err := tableDigest(ctx, c.dst, t)
	if err != nil {
		return tr, fmt.Errorf("read destination: %w", err)
	}
	tr.SourceRows, tr.DestBefore = sd.rows, dd.rows
	if sd == dd {
		tr.AlreadySame = true
		return tr, nil
	}
	if c.dry {
		return tr, nil
	}
	if len(t.pk) == 0 && dd.rows > 0 {
		return tr, fmt.Errorf("it has no primary key and the destination already holds %d different rows: empty it first", dd.rows)
	}
	logf(c.log, "%s: copying %d rows", t.name, sd.rows)
	if c.pool != nil && dd.rows == 0 {
		// Into an empty PostgreSQL table, COPY is several times faster
		// than batched upserts.
		if tr.Written, err = c.copyAll(ctx, t); err != nil {
			return tr, err
		}
	} else if tr.Written, err = c.upsertAll(ctx, t); err != nil {
		return tr, err
	}
	if len(t.pk) > 0 {
		if tr.Deleted, err = c.deleteExtra(ctx, t); err != nil {
			return tr, err
		}
	}
	if err := c.fixIdentity(ctx, t); err != nil {
		return tr, err
	}
	after, err := tableDigest(ctx, c.dst, t)
	if err != nil {
		return tr, fmt.Errorf("verify: %w", err)
	}
	if after != sd {
		return tr, fmt.Errorf("verify: the destination holds %d rows, the source %d, and their contents differ", after.rows, sd.rows)
	}
	return tr, nil
}

func (t table) colList(prefix string) string {
	parts := make([]string, len(t.cols))
	for i, c := range t.cols {
		parts[i] = prefix + quote(c.name)
	}
	return strings.Join(parts, ", ")
}

// upsertAll streams the source rows into the destination in batches, each
// batch its own transaction (a failed run resumes where the rows differ).
func (c copier) upsertAll(ctx context.Context, t table) (int64, error) {
	rows, err := c.src.QueryContext(ctx, `SELECT `+t.colList("")+` FROM `+quote(t.name))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	per := maxParams / len(t.cols)
	if per > maxBatchRows {
		per = maxBatchRows
	}
	var written int64
	batch := make([]any, 0, per*len(t.cols))
	n := 0
	// A batch can fail on a unique index other than the key when rows
	// changed places at the source (a flip: the new Live deployment lands
	// while the old one is still Live here). Such rows are set aside and
	// written one by one once the rest has landed.
	var deferred [][]any
	one := c.upsertSQL(t, 1)
	flush := func() error {
		if n == 0 {
			return nil
		}
		res, err := c.w.ExecContext(ctx, c.upsertSQL(t, n), batch...)
		if err != nil {
			for r := 0; r < n; r++ {
				row := append([]any(nil), batch[r*len(t.cols):(r+1)*len(t.cols)]...)
				res, err := c.w.ExecContext(ctx, one, row...)
				if err != nil {
					deferred = append(deferred, row)
					continue
				}
				k, _ := res.RowsAffected()
				written += k
			}
			batch, n = batch[:0], 0
			return nil
		}
		k, _ := res.RowsAffected()
		written += k
		batch, n = batch[:0], 0
		return nil
	}
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return written, err
		}
		for i, col := range t.cols {
			batch = append(batch, convert(vals[i], col.kind))
		}
		n++
		if n == per {
			if err := flush(); err != nil {
				return written, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return written, err
	}
	if err := flush(); err != nil {
		return written, err
	}
	for len(deferred) > 0 {
		var left [][]any
		var lastErr error
		for _, row := range deferred {
			res, err := c.w.ExecContext(ctx, one, row...)
			if err != nil {
				left, lastErr = append(left, row), err
				continue
			}
			k, _ := res.RowsAffected()
			written += k
		}
		if len(left) == len(deferred) {
			return written, fmt.Errorf("%d rows cannot be written: %w", len(left), lastErr)
		}
		deferred = left
	}
	return written, nil
}

// copyAll streams the source rows into an empty PostgreSQL table with COPY
// (which takes identity columns' values as given).
func (c copier) copyAll(ctx context.Context, t table) (int64, error) {
	rows, err := c.src.QueryContext(ctx, `SELECT `+t.colList("")+` FROM `+quote(t.name))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	names := make([]string, len(t.cols))
	for i, col := range t.cols {
		names[i] = col.name
	}
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([]any, len(t.cols))
	n, err := c.pool.CopyFrom(ctx, pgx.Identifier{t.name}, names, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, col := range t.cols {
			out[i] = convert(vals[i], col.kind)
		}
		return out, nil
	}))
	return n, err
}

// upsertSQL inserts n rows, updating a row whose key exists only where a
// column differs, so a repeated run writes (and counts) nothing.
func (c copier) upsertSQL(t table, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(t.name) + " (" + t.colList("") + ")")
	if c.dstDialect == store.Postgres {
		for _, col := range t.cols {
			if col.identity {
				b.WriteString(" OVERRIDING SYSTEM VALUE")
				break
			}
		}
	}
	b.WriteString(" VALUES ")
	p := 0
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range t.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			p++
			if c.dstDialect == store.Postgres {
				b.WriteString("$" + strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	if len(t.pk) == 0 {
		return b.String()
	}
	isPK := map[string]bool{}
	for _, k := range t.pk {
		isPK[k] = true
	}
	var set, same []string
	for _, col := range t.cols {
		if isPK[col.name] {
			continue
		}
		q := quote(col.name)
		set = append(set, q+" = excluded."+q)
		if c.dstDialect == store.Postgres {
			same = append(same, quote(t.name)+"."+q+" IS NOT DISTINCT FROM excluded."+q)
		} else {
			same = append(same, quote(t.name)+"."+q+" IS excluded."+q)
		}
	}
	pk := make([]string, len(t.pk))
	for i, k := range t.pk {
		pk[i] = quote(k)
	}
	b.WriteString(" ON CONFLICT (" + strings.Join(pk, ", ") + ")")
	if len(set) == 0 {
		b.WriteString(" DO NOTHING")
		return b.String()
	}
	b.WriteString(" DO UPDATE SET " + strings.Join(set, ", ") + " WHERE NOT (" + strings.Join(same, " AND ") + ")")
	return b.String()
}

// deleteExtra removes destination rows whose key the source no longer has
// (a row deleted at the source between two runs).
func (c copier) deleteExtra(ctx context.Context, t table) (int64, error) {
	var keyCols []column
	for _, k := range t.pk {
		col, _ := t.col(k)
		keyCols = append(keyCols, col)
	}
	kt := table{name: t.name, cols: keyCols}
	srcKeys := map[string]bool{}
	if err := eachRow(ctx, c.src, kt, func(vals []any) error {
		srcKeys[rowKey(vals)] = true
		return nil
	}); err != nil {
		return 0, err
	}
	var extra [][]any
	if err := eachRow(ctx, c.dst, kt, func(vals []any) error {
		if !srcKeys[rowKey(vals)] {
			extra = append(extra, append([]any(nil), vals...))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	var where []string
	for i, k := range t.pk {
		if c.dstDialect == store.Postgres {
			where = append(where, quote(k)+" = $"+strconv.Itoa(i+1))
		} else {
			where = append(where, quote(k)+" = ?")
		}
	}
	stmt := `DELETE FROM ` + quote(t.name) + ` WHERE ` + strings.Join(where, " AND ")
	var n int64
	for _, key := range extra {
		res, err := c.w.ExecContext(ctx, stmt, key...)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// fixIdentity moves a PostgreSQL identity sequence past the copied keys, so
// the next row the service inserts does not collide.
func (c copier) fixIdentity(ctx context.Context, t table) error {
	if c.dstDialect != store.Postgres {
		return nil // SQLite's AUTOINCREMENT follows the largest key written
	}
	for _, col := range t.cols {
		if !col.identity {
			continue
		}
		q := `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(` + quote(col.name) + `) FROM ` + quote(t.name) + `), 0) + 1, false)`
		if _, err := c.w.ExecContext(ctx, q, t.name, col.name); err != nil {
			return fmt.Errorf("reset the sequence of %s.%s: %w", t.name, col.name, err)
		}
	}
	return nil
}

func eachRow(ctx context.Context, q querier, t table, fn func([]any) error) error {
	rows, err := q.QueryContext(ctx, `SELECT `+t.colList("")+` FROM `+quote(t.name))
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// digest is a table's row count and an order-free hash of its rows (the
// sum of per-row SHA-256s, in four 64-bit lanes), comparable across
// dialects because values are normalised first.
type digest struct {
	rows  int64
	lanes [4]uint64
}

func tableDigest(ctx context.Context, q querier, t table) (digest, error) {
	var d digest
	err := eachRow(ctx, q, t, func(vals []any) error {
		sum := sha256.Sum256([]byte(rowKey(vals)))
		for i := range d.lanes {
			d.lanes[i] += binary.BigEndian.Uint64(sum[i*8:])
		}
		d.rows++
		return nil
	})
	return d, err
}

// rowKey encodes values so that the same row reads the same from SQLite
// and PostgreSQL (0/1 and booleans, BLOB and BYTEA, TEXT).
func rowKey(vals []any) string {
	var b strings.Builder
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b.WriteString("N;")
		case bool:
			if x {
				b.WriteString("I1;")
			} else {
				b.WriteString("I0;")
			}
		case int64:
			b.WriteString("I" + strconv.FormatInt(x, 10) + ";")
		case int32:
			b.WriteString("I" + strconv.FormatInt(int64(x), 10) + ";")
		case float64:
			b.WriteString("F" + strconv.FormatFloat(x, 'g', -1, 64) + ";")
		case []byte:
			b.WriteString("S" + strconv.Itoa(len(x)) + ":")
			b.Write(x)
		case string:
			b.WriteString("S" + strconv.Itoa(len(x)) + ":" + x)
		case time.Time:
			b.WriteString("T" + strconv.FormatInt(x.UnixMicro(), 10) + ";")
		default:
			fmt.Fprintf(&b, "?%v;", x)
		}
	}
	return b.String()
}

// convert turns a value read from one dialect into what the destination
// column takes.
func convert(v any, kind string) any {
	switch kind {
	case "bool":
		switch x := v.(type) {
		case int64:
			return x != 0
		case int32:
			return x != 0
		}
	case "int":
		if x, ok := v.(bool); ok {
			if x {
				return int64(1)
			}
			return int64(0)
		}
	case "bytes":
		if x, ok := v.(string); ok {
			return []byte(x)
		}
	case "text":
		if x, ok := v.([]byte); ok {
			return string(x)
		}
	}
	if x, ok := v.([]byte); ok {
		return append([]byte(nil), x...) // the driver reuses its buffer
	}
	return v
}
