package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowgate/flowgate/internal/store"
)

// Runtime log bounds (see docs/availability.md).
const (
	DefaultLogQuotaRows  = 200_000   // rows kept per environment
	DefaultLogQuotaBytes = 256 << 20 // message bytes kept per environment

	logBatch       = 512              // rows per write transaction
	deleteBatch    = 500              // rows per delete transaction (retention, quotas): a few ms on SQLite
	quotaEvery     = 5 * time.Second  // how often quotas are enforced
	retentionEvery = 10 * time.Minute // how often retention runs
)

// logStore is the part of the deploy service the log writer uses.
type logStore interface {
	AppendRuntimeLogs(ctx context.Context, batch []store.RuntimeLog) error // in one transaction
	Ping(ctx context.Context) error
	PruneRuntimeLogs(ctx context.Context, before time.Time, limit int) (int64, error)
	TrimRuntimeLogs(ctx context.Context, env string, limit int) (int64, error)
	RuntimeLogTotals(ctx context.Context) (map[string]store.LogTotal, error)
}

// logWriter writes runtime logs off the request path: add never blocks (a
// full buffer drops the rows and counts them), one goroutine writes
// batches, and another keeps the table bounded — retention and
// per-environment quotas, deleting the oldest rows in small transactions
// so the embedded database's one connection is never held for long.
type logWriter struct {
	db         logStore
	in         chan []store.RuntimeLog
	dropped    prometheus.Counter // rows lost before they were stored
	trimmed    prometheus.Counter // stored rows deleted to keep a quota
	retention  time.Duration
	quotaRows  int64
	quotaBytes int64
	log        *slog.Logger
	done       chan struct{}
	stop       context.CancelFunc // ends the housekeeping
	kept       chan struct{}      // closed when the housekeeping has ended

	mu     sync.RWMutex // guards closed against add racing close
	closed bool

	// Writer goroutine only: one line per outage, at most one a minute
	// for rows the database refuses.
	failing       bool
	refusedLogged time.Time
}

type logLimits struct {
	buffer     int
	retention  time.Duration
	quotaRows  int
	quotaBytes int64
}

func newLogWriter(db logStore, lim logLimits, dropped, trimmed prometheus.Counter, log *slog.Logger) *logWriter {
	if lim.buffer <= 0 {
		lim.buffer = 8192
	}
	if lim.quotaRows <= 0 {
		lim.quotaRows = DefaultLogQuotaRows
	}
	if lim.quotaBytes <= 0 {
		lim.quotaBytes = DefaultLogQuotaBytes
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &logWriter{db: db, in: make(chan []store.RuntimeLog, lim.buffer/4+1), dropped: dropped, trimmed: trimmed,
		retention: lim.retention, quotaRows: int64(lim.quotaRows), quotaBytes: lim.quotaBytes, log: log,
		done: make(chan struct{}), stop: stop, kept: make(chan struct{})}
	go w.run()
	go w.housekeep(ctx)
	return w
}

func (w *logWriter) add(rows []store.RuntimeLog) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(float64(len(rows)))
		return
	}
	select {
	case w.in <- rows:
	default:
		w.dropped.Add(float64(len(rows)))
	}
}

func (w *logWriter) run() {
	defer close(w.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var batch []store.RuntimeLog
	flush := func() {
		if len(batch) > 0 {
			w.write(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case rows, ok := <-w.in:
			if !ok {
				flush()
				return
			}
			batch = append(batch, rows...)
			if len(batch) >= logBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// write stores a batch in one transaction (row by row, each insert would
// commit and sync on its own). If the database refuses the batch while it
// is reachable, the rows are written one by one, so a row it cannot take
// costs that row only — never another tenant's.
func (w *logWriter) write(batch []store.RuntimeLog) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := w.db.AppendRuntimeLogs(ctx, batch)
	if err == nil {
		w.recovered()
		return
	}
	if w.db.Ping(ctx) != nil { // the database is away
		w.dropped.Add(float64(len(batch)))
		if !w.failing {
			w.failing = true
			w.log.Warn("runtime logs are being lost: the database cannot be written (counted in flowgate_runtime_logs_dropped_total)",
				"rows", len(batch), "err", err)
		}
		return
	}
	w.recovered()
	refused := 0
	for i := range batch {
		one := batch[i : i+1]
		if w.db.AppendRuntimeLogs(ctx, one) != nil {
			refused++
		}
	}
	if refused > 0 {
		w.dropped.Add(float64(refused))
		if time.Since(w.refusedLogged) > time.Minute { // at most a line a minute
			w.refusedLogged = time.Now()
			w.log.Warn("runtime log rows refused by the database (counted in flowgate_runtime_logs_dropped_total)",
				"rows", refused, "err", err)
		}
	}
}

func (w *logWriter) recovered() {
	if w.failing {
		w.failing = false
		w.log.Info("runtime logs are being stored again")
	}
}

// housekeep enforces retention and quotas until ctx ends.
func (w *logWriter) housekeep(ctx context.Context) {
	defer close(w.kept)
	quota := time.NewTicker(quotaEvery)
	defer quota.Stop()
	retain := time.NewTicker(retentionEvery)
	defer retain.Stop()
	w.pruneOld(ctx)
	w.enforceQuotas(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-quota.C:
			w.enforceQuotas(ctx)
		case <-retain.C:
			w.pruneOld(ctx)
		}
	}
}

// pruneOld deletes rows past the retention, deleteBatch at a time: each
// batch is one short transaction, and other queries get the connection
// between batches.
func (w *logWriter) pruneOld(ctx context.Context) {
	before := time.Now().Add(-w.retention)
	var total int64
	for ctx.Err() == nil {
		t0 := time.Now()
		n, err := w.db.PruneRuntimeLogs(ctx, before, deleteBatch)
		pace(ctx, time.Since(t0))
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("prune runtime logs", "err", err)
			}
			break
		}
		total += n
		if n < deleteBatch {
			break
		}
	}
	if total > 0 {
		w.log.Info("pruned runtime logs", "rows", total)
	}
}

// enforceQuotas deletes each environment's oldest rows past its quota
// (rows or message bytes), deleteBatch at a time, counting them.
func (w *logWriter) enforceQuotas(ctx context.Context) {
	totals, err := w.db.RuntimeLogTotals(ctx)
	if err != nil {
		return // the database is away: the next tick tries again
	}
	for env, t := range totals {
		for ctx.Err() == nil && (t.Rows > w.quotaRows || t.Bytes > w.quotaBytes) {
			// Rows to go: the larger excess, bytes turned into rows at
			// the environment's average row size; at most one batch.
			n := t.Rows - w.quotaRows
			if t.Bytes > w.quotaBytes && t.Bytes > 0 {
				n = max(n, ((t.Bytes-w.quotaBytes)*t.Rows+t.Bytes-1)/t.Bytes)
			}
			n = min(max(n, 1), deleteBatch)
			t0 := time.Now()
			got, err := w.db.TrimRuntimeLogs(ctx, env, int(n))
			pace(ctx, time.Since(t0))
			if err != nil || got == 0 {
				break
			}
			w.trimmed.Add(float64(got))
			all, err := w.db.RuntimeLogTotals(ctx)
			if err != nil {
				break
			}
			t = all[env]
		}
	}
}

// pace waits twice as long as the last delete batch took: housekeeping
// uses at most about a third of a core, and triggers and log writes get
// the database between batches.
func pace(ctx context.Context, d time.Duration) {
	t := time.NewTimer(max(2*d, time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// close stops accepting rows and waits for the last batch (bounded by ctx).
func (w *logWriter) close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
		w.stop()
	}
	w.mu.Unlock()
	for _, ch := range []chan struct{}{w.done, w.kept} {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
