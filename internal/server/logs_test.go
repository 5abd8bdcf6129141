package server

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/store"
)

// A log store that falls behind never slows a trigger: add returns at
// once, and rows past the buffer are dropped and counted.
func TestLogWriterDropsInsteadOfWaiting(t *testing.T) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
	// No writer goroutine: nothing drains the buffer, as when the database hangs.
	w := &logWriter{in: make(chan []store.RuntimeLog, 2), dropped: dropped, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		done: make(chan struct{})}
	row := []store.RuntimeLog{{Message: "a"}, {Message: "b"}}
	for range 10 {
		w.add(row) // a blocking add would hang here
	}
	if got := testutil.ToFloat64(dropped); got != 16 {
		t.Fatalf("dropped = %v rows, want 16 (8 batches of 2 past a buffer of 2)", got)
	}
	// After close, rows are counted as dropped, never sent on a closed channel.
	close(w.done)
	w.close(context.Background())
	w.add(row)
	if got := testutil.ToFloat64(dropped); got != 18 {
		t.Fatalf("dropped after close = %v", got)
	}
}

// The handler's quick event check agrees with the located one.
func TestIsJSONObjectAgreesWithCheckEvent(t *testing.T) {
	for _, ev := range []string{`{}`, ` {"a":1} `, "\n{\"a\":[1,2,{}]}\n", `[]`, `1`, `"x"`, `null`, ``, `{`, `{"a":1} x`,
		`{"a":1}{}`, `{"a":"\x00"}`, "{\"a\":\"\xff\"}", `{"a":1,}`, ` `, `{"a":NaN}`} {
		want := invoke.CheckEvent([]byte(ev)) == nil
		if got := isJSONObject([]byte(ev)); got != want {
			t.Errorf("%q: isJSONObject %v, CheckEvent ok %v", ev, got, want)
		}
	}
}

func FuzzIsJSONObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}]}`, `[]`, `{"a":1} x`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := isJSONObject(b), invoke.CheckEvent(b) == nil; got != want {
			t.Fatalf("%q: isJSONObject %v, CheckEvent ok %v", b, got, want)
		}
	})
}
