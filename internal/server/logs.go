package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowgate/flowgate/internal/store"
)

// logBatch is the rows per write transaction. Retention and quotas are
// deploy's housekeeping jobs (deploy/prune.go).
const logBatch = 512

// logStore is the part of the deploy service the log writer uses.
type logStore interface {
	AppendRuntimeLogs(ctx context.Context, batch []store.RuntimeLog) error // in one transaction
	Ping(ctx context.Context) error
}

// logWriter writes runtime logs off the request path: add never blocks (a
// full buffer drops the rows and counts them), and one goroutine writes
// batches.
type logWriter struct {
	db      logStore
	in      chan []store.RuntimeLog
	dropped prometheus.Counter // rows lost before they were stored
	log     *slog.Logger
	done    chan struct{}

	mu     sync.RWMutex // guards closed against add racing close
	closed bool

	// Writer goroutine only: one line per outage, at most one a minute
	// for rows the database refuses.
	failing       bool
	refusedLogged time.Time
}

// newLogWriter buffers up to buffer rows (default 8192).
func newLogWriter(db logStore, buffer int, dropped prometheus.Counter, log *slog.Logger) *logWriter {
	if buffer <= 0 {
		buffer = 8192
	}
	w := &logWriter{db: db, in: make(chan []store.RuntimeLog, buffer/4+1), dropped: dropped, log: log, done: make(chan struct{})}
	go w.run()
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

// close stops accepting rows and waits for the last batch (bounded by ctx).
func (w *logWriter) close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
