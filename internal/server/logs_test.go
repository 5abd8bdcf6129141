package server

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowgate/flowgate/internal/store"
)

// A log store that falls behind never slows a trigger: add returns at
// once, and rows past the buffer are dropped and counted.
func TestLogWriterDropsInsteadOfWaiting(t *testing.T) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
	// No writer goroutine: nothing drains the buffer, as when the database hangs.
	w := &logWriter{in: make(chan []store.RuntimeLog, 2), dropped: dropped, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		done: make(chan struct{}), stop: func() {}, kept: make(chan struct{})}
	row := []store.RuntimeLog{{Message: "a"}, {Message: "b"}}
	for range 10 {
		w.add(row) // a blocking add would hang here
	}
	if got := testutil.ToFloat64(dropped); got != 16 {
		t.Fatalf("dropped = %v rows, want 16 (8 batches of 2 past a buffer of 2)", got)
	}
	// After close, rows are counted as dropped, never sent on a closed channel.
	close(w.done)
	close(w.kept)
	w.close(context.Background())
	w.add(row)
	if got := testutil.ToFloat64(dropped); got != 18 {
		t.Fatalf("dropped after close = %v", got)
	}
}
