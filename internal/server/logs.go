package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowgate/flowgate/internal/store"
)

// logWriter writes runtime logs off the request path: add never blocks (a
// full buffer drops the rows and counts them), one goroutine writes
// batches, and old rows are deleted past the retention.
type logWriter struct {
	db        *store.DB
	in        chan []store.RuntimeLog
	dropped   prometheus.Counter
	retention time.Duration
	log       *slog.Logger
	done      chan struct{}

	mu     sync.RWMutex // guards closed against add racing close
	closed bool
}

func newLogWriter(db *store.DB, buffer int, retention time.Duration, dropped prometheus.Counter, log *slog.Logger) *logWriter {
	if buffer <= 0 {
		buffer = 8192
	}
	w := &logWriter{db: db, in: make(chan []store.RuntimeLog, buffer/4+1), dropped: dropped,
		retention: retention, log: log, done: make(chan struct{})}
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
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	var batch []store.RuntimeLog
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// One transaction per batch: row by row, each insert would commit
		// (and sync) on its own.
		err := w.db.InTx(ctx, func(q store.Q) error { return q.AppendRuntimeLogs(ctx, batch) })
		if err != nil {
			w.dropped.Add(float64(len(batch)))
			w.log.Warn("runtime logs lost", "rows", len(batch), "err", err)
		}
		cancel()
		batch = batch[:0]
	}
	w.pruneOld()
	for {
		select {
		case rows, ok := <-w.in:
			if !ok {
				flush()
				return
			}
			batch = append(batch, rows...)
			if len(batch) >= 512 {
				flush()
			}
		case <-tick.C:
			flush()
		case <-prune.C:
			w.pruneOld()
		}
	}
}

func (w *logWriter) pruneOld() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := w.db.DeleteRuntimeLogsBefore(ctx, time.Now().Add(-w.retention)); err != nil {
		w.log.Warn("prune runtime logs", "err", err)
	} else if n > 0 {
		w.log.Info("pruned runtime logs", "rows", n)
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
