package githubapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// QueueDeliveries is the River queue webhook deliveries run on.
const QueueDeliveries = "github"

// DeliveryArgs is the durable job of one webhook delivery. Jobs with the
// same ID are one job (River's uniqueness); the store's delivery record
// keeps a redelivery from running twice after River has pruned the job.
type DeliveryArgs struct {
	ID         string          `json:"id" river:"unique"`
	Event      string          `json:"event"`
	Payload    json.RawMessage `json:"payload"`
	ReceivedAt time.Time       `json:"receivedAt"`
}

// Kind names the job in River's table (stored rows name it: never rename).
func (DeliveryArgs) Kind() string { return "flowgate.github_delivery" }

// InsertOpts: the github queue, unique by delivery id, bounded attempts.
func (DeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeliveries, MaxAttempts: 8, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// enqueuer is the part of deploy.Jobs the queue uses.
type enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (deploy.EnqueueResult, error)
}

// RiverQueue is the Queue of the service: the delivery id is recorded in
// the store (atomically: two replicas receiving the same delivery record
// it once), then the delivery is queued as a River job.
type RiverQueue struct {
	Jobs  enqueuer
	Store *store.DB
	Now   func() time.Time // default time.Now
}

var _ Queue = (*RiverQueue)(nil)

// EnqueueDelivery implements Queue.
func (q *RiverQueue) EnqueueDelivery(ctx context.Context, d Delivery) (bool, error) {
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	at := now().UTC().Truncate(time.Microsecond)
	fresh, err := q.Store.RecordDelivery(ctx, d.ID, at)
	if err != nil {
		return false, err
	}
	if !fresh {
		return true, nil
	}
	// GitHub signs the body only, not X-GitHub-Delivery or X-GitHub-Event:
	// a captured delivery re-posted under a new id would run again and could
	// put an old push live. Its body is recorded too, so a body seen before
	// is a duplicate whatever id it comes with.
	sum := sha256.Sum256(d.Payload)
	bodyKey := "body:" + hex.EncodeToString(sum[:])
	fresh, err = q.Store.RecordDelivery(ctx, bodyKey, at)
	if err != nil {
		return false, err
	}
	if !fresh {
		return true, nil
	}
	res, err := q.Jobs.Enqueue(ctx, DeliveryArgs{ID: d.ID, Event: d.Event, Payload: d.Payload, ReceivedAt: at}, nil)
	if err != nil {
		// Not queued: forget the id so GitHub's redelivery is accepted.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, key := range []string{d.ID, bodyKey} {
			if ferr := q.Store.ForgetDelivery(fctx, key); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
		return false, err
	}
	return res.Duplicate, nil
}

// DeliveryWorker works DeliveryArgs jobs with the App's handlers.
type DeliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	App *App
}

// Work dispatches one delivery. An error retries the job with backoff (a
// GitHub outage, a database hiccup); a payload that cannot be read is
// cancelled, since no retry can fix it.
func (w *DeliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	a := job.Args
	log := w.App.log.With("delivery_id", a.ID, "event", a.Event, "attempt", job.Attempt)
	err := w.App.Handle(ctx, a)
	var bad *badPayloadError
	switch {
	case errors.As(err, &bad):
		log.Warn("delivery dropped", "err", err)
		return river.JobCancel(err)
	case err != nil:
		log.Warn("delivery failed; it will be retried", "err", err)
		return err
	}
	log.Debug("delivery handled")
	return nil
}

// Register adds the delivery worker and its queue to the service's jobs.
func (a *App) Register(o *deploy.JobsOptions) {
	prev := o.Register
	o.Register = func(w *river.Workers) error {
		if prev != nil {
			if err := prev(w); err != nil {
				return err
			}
		}
		return river.AddWorkerSafely(w, &DeliveryWorker{App: a})
	}
	if o.Queues == nil {
		o.Queues = map[string]river.QueueConfig{}
	}
	o.Queues[QueueDeliveries] = river.QueueConfig{MaxWorkers: 2}
}

// badPayloadError marks a delivery no retry can handle.
type badPayloadError struct{ err error }

func (e *badPayloadError) Error() string { return "bad payload: " + e.err.Error() }
func (e *badPayloadError) Unwrap() error { return e.err }

func badPayload(format string, args ...any) error {
	return &badPayloadError{fmt.Errorf(format, args...)}
}
