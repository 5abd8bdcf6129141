package server

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/sandbox"
)

// recordBuffer bounds the calls waiting to be redacted and stored; past it
// a sampled call is dropped and counted, never waited for.
const recordBuffer = 256

// recordQueueBytes bounds the bytes those calls hold (events, recorded
// URLs, headers and bodies, before redaction): a call is up to a 1 MiB
// event and megabytes of answers, so the count alone let the queue hold
// gigabytes while the database was slow.
const recordQueueBytes = 64 << 20

// recordStore is the part of the deploy service the recorder uses.
type recordStore interface {
	AddRecording(ctx context.Context, env string, rec replay.Recorded, keep int) (int64, error)
}

// recorder records sampled trigger calls off the request path
// (docs/recording.md): the trigger path only decides (from its in-memory
// snapshot) and queues; one goroutine redacts, seals and stores.
// Retention is the prune job's (deploy.PruneLogsArgs). A full queue, an oversized call or a failing
// database costs the recording, counted, never the call.
type recorder struct {
	db       recordStore
	in       chan pendingRecording
	recorded prometheus.Counter
	dropped  *prometheus.CounterVec // by reason
	log      *slog.Logger
	draw     func() float64 // uniform in [0, 1)
	done     chan struct{}

	mu     sync.RWMutex
	closed bool
	queued atomic.Int64 // bytes held by the queued calls
}

type pendingRecording struct {
	env   string
	state *deploy.RecordingState
	call  recording.Call
	size  int64
}

// callBytes is about what a queued call holds.
func callBytes(c recording.Call) int64 {
	n := len(c.Event)
	for _, f := range c.Fetch {
		n += len(f.Method) + len(f.URL) + len(f.Body)
		for k, v := range f.Headers {
			n += len(k) + len(v)
		}
	}
	return int64(n)
}

func newRecorder(db recordStore, reg *prometheus.Registry, log *slog.Logger) *recorder {
	r := &recorder{db: db, in: make(chan pendingRecording, recordBuffer), log: log, draw: rand.Float64,
		done: make(chan struct{}),
		recorded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flowgate_recordings_total", Help: "Trigger calls recorded (redacted, sealed and stored).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowgate_recordings_dropped_total",
			Help: "Sampled trigger calls not recorded, by reason (queue_full, too_large, unrecordable, store).",
		}, []string{"reason"}),
	}
	reg.MustRegister(r.recorded, r.dropped)
	go r.run()
	return r
}

// sample decides, before a run, whether it is recorded: recording on for
// the workflow in the snapshot, and the sample drawn. Previews are never
// recorded. nil: not recorded.
func (r *recorder) sample(inv *deploy.Invocation) *deploy.RecordingState {
	if st := inv.Recording; st != nil && !inv.Preview && st.Settings.Sampled(r.draw()) {
		return st
	}
	return nil
}

// add queues a recorded run (state from sample; nil: nothing to do). It
// never blocks.
func (r *recorder) add(env string, st *deploy.RecordingState, req invoke.Request, resp sandbox.Response) {
	if st == nil || resp.Result == nil {
		return
	}
	if sandbox.RecordingCut(resp.Fetch) { // too large to leave the worker: a part would replay as another call
		r.dropped.WithLabelValues("too_large").Inc()
		return
	}
	p := pendingRecording{env: env, state: st, call: recording.Call{
		WorkflowID: resp.Result.WorkflowID, Trigger: req.Trigger, Event: req.Event, Fetch: resp.Fetch, Env: req.Env}}
	p.size = callBytes(p.call)
	if p.size > recordQueueBytes {
		r.dropped.WithLabelValues("too_large").Inc()
		return
	}
	if r.queued.Add(p.size) > recordQueueBytes {
		r.queued.Add(-p.size)
		r.dropped.WithLabelValues("queue_full").Inc()
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.queued.Add(-p.size)
		r.dropped.WithLabelValues("queue_full").Inc()
		return
	}
	select {
	case r.in <- p:
	default:
		r.queued.Add(-p.size)
		r.dropped.WithLabelValues("queue_full").Inc()
	}
}

func (r *recorder) run() {
	defer close(r.done)
	var refusedLogged time.Time
	for p := range r.in {
		err := r.store(p)
		r.queued.Add(-p.size)
		if err == nil {
			r.recorded.Inc()
			continue
		}
		reason := "store"
		switch {
		case errors.Is(err, recording.ErrTooLarge):
			reason = "too_large"
		case errors.Is(err, errUnrecordable):
			reason = "unrecordable"
		}
		r.dropped.WithLabelValues(reason).Inc()
		if reason == "store" && time.Since(refusedLogged) > time.Minute { // at most a line a minute
			refusedLogged = time.Now()
			r.log.Warn("recordings are being lost: the database cannot be written (counted in flowgate_recordings_dropped_total)", "err", err)
		}
	}
}

var errUnrecordable = errors.New("unrecordable")

func (r *recorder) store(p pendingRecording) error {
	if p.call.Env == nil {
		p.call.Env = map[string]bindings.EnvVar{}
	}
	rec, err := recording.Redact(p.call, p.state.Settings.PII, p.state.Key)
	if err != nil {
		if errors.Is(err, recording.ErrTooLarge) {
			return err
		}
		return errors.Join(errUnrecordable, err)
	}
	rec.ID, rec.At = newRecordingID(), time.Now().UTC()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = r.db.AddRecording(ctx, p.env, rec, p.state.Settings.MaxPerWorkflow)
	return err
}

func newRecordingID() string { return "rec_" + newInvocationID()[len("inv_"):] }

// close stops accepting calls and waits for the queued ones (bounded by ctx).
func (r *recorder) close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.in)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var _ recordStore = (*deploy.Service)(nil)
