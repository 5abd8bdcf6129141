package server

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/store"
)

// recordBuffer bounds the calls waiting to be redacted and stored; past it
// a sampled call is dropped and counted, never waited for.
const recordBuffer = 256

// recordStore is the part of the deploy service the recorder uses.
type recordStore interface {
	AddRecording(ctx context.Context, env string, rec replay.Recorded, keep int) (int64, error)
	PruneRecordings(ctx context.Context) (int64, error)
}

// recorder records sampled trigger calls off the request path
// (docs/recording.md): the trigger path only decides (from its in-memory
// snapshot) and queues; one goroutine redacts, seals and stores, another
// prunes past the retention. A full queue, an oversized call or a failing
// database costs the recording, counted, never the call.
type recorder struct {
	db       recordStore
	in       chan pendingRecording
	recorded prometheus.Counter
	dropped  *prometheus.CounterVec // by reason
	log      *slog.Logger
	draw     func() float64 // uniform in [0, 1)
	done     chan struct{}
	stop     context.CancelFunc
	kept     chan struct{}

	mu     sync.RWMutex
	closed bool
}

type pendingRecording struct {
	env   string
	state *deploy.RecordingState
	call  recording.Call
}

func newRecorder(db recordStore, reg *prometheus.Registry, log *slog.Logger) *recorder {
	r := &recorder{db: db, in: make(chan pendingRecording, recordBuffer), log: log, draw: rand.Float64,
		done: make(chan struct{}), kept: make(chan struct{}),
		recorded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flowgate_recordings_total", Help: "Trigger calls recorded (redacted, sealed and stored).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowgate_recordings_dropped_total",
			Help: "Sampled trigger calls not recorded, by reason (queue_full, too_large, unrecordable, store).",
		}, []string{"reason"}),
	}
	reg.MustRegister(r.recorded, r.dropped)
	ctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	go r.run()
	go r.housekeep(ctx)
	return r
}

// sample decides, before a run, whether it is recorded: recording on for
// the workflow in the snapshot, and the sample drawn. Previews are never
// recorded. nil: not recorded.
func (r *recorder) sample(snap *deploy.Snapshot, live *store.LiveDeployment, preview bool) *deploy.RecordingState {
	if live == nil || preview {
		return nil
	}
	st := snap.Recording()
	if st == nil || !st.Settings.Records(live.WorkflowID) || !st.Settings.Sampled(r.draw()) {
		return nil
	}
	return st
}

// add queues a recorded run (state from sample; nil: nothing to do). It
// never blocks.
func (r *recorder) add(env string, st *deploy.RecordingState, req invoke.Request, resp sandbox.Response) {
	if st == nil || resp.Result == nil {
		return
	}
	p := pendingRecording{env: env, state: st, call: recording.Call{
		WorkflowID: resp.Result.WorkflowID, Trigger: req.Trigger, Event: req.Event, Fetch: resp.Fetch, Env: req.Env}}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.dropped.WithLabelValues("queue_full").Inc()
		return
	}
	select {
	case r.in <- p:
	default:
		r.dropped.WithLabelValues("queue_full").Inc()
	}
}

func (r *recorder) run() {
	defer close(r.done)
	var refusedLogged time.Time
	for p := range r.in {
		err := r.store(p)
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

// housekeep deletes recordings past their environment's retention now and
// then (in small batches, deploy.PruneRecordings) until ctx ends.
func (r *recorder) housekeep(ctx context.Context) {
	defer close(r.kept)
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		if n, err := r.db.PruneRecordings(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("prune recordings", "err", err)
		} else if n > 0 {
			r.log.Info("pruned recordings", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// close stops accepting calls and waits for the queued ones (bounded by ctx).
func (r *recorder) close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.in)
		r.stop()
	}
	r.mu.Unlock()
	for _, ch := range []chan struct{}{r.done, r.kept} {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

var _ recordStore = (*deploy.Service)(nil)
