package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/flowgate/flowgate/internal/store"
)

// Master-key rotation: FLOWGATE_MASTER_KEY="new,old" seals new values under
// new and still opens old ones. The re-seal job finishes the rotation: it
// re-encrypts every secret variable and every workflow encryption key under
// the current (first) key, so the old key can be dropped from the list.
// It is a durable River job: a replica that dies mid-run leaves it to be
// retried, and a retry skips what is already sealed under the current key.

// QueueMaintenance is the queue of housekeeping jobs such as the re-seal.
const QueueMaintenance = "maintenance"

// ResealArgs is the re-seal job of one run.
type ResealArgs struct {
	RunID string `json:"runId" river:"unique"`
}

// Kind names the job in River's table (stored: never renamed).
func (ResealArgs) Kind() string { return "flowgate.reseal" }

// InsertOpts: one job per run, on the maintenance queue.
func (ResealArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RegisterReseal adds the re-seal worker and its queue to o.
func RegisterReseal(o *JobsOptions) {
	prev := o.Register
	o.Register = func(w *river.Workers) error {
		if prev != nil {
			if err := prev(w); err != nil {
				return err
			}
		}
		return river.AddWorkerSafely(w, &resealWorker{svc: o.Service})
	}
	if o.Queues == nil {
		o.Queues = map[string]river.QueueConfig{}
	}
	o.Queues[QueueMaintenance] = river.QueueConfig{MaxWorkers: 1}
}

type resealWorker struct {
	river.WorkerDefaults[ResealArgs]
	svc *Service
}

func (w *resealWorker) Work(ctx context.Context, job *river.Job[ResealArgs]) error {
	return w.svc.Reseal(ctx, job.Args.RunID)
}

// Enqueuer queues jobs (*Jobs).
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (EnqueueResult, error)
}

// StartReseal records a re-seal run and queues its job. While a run is
// queued or running, it returns that run instead of starting another.
func (s *Service) StartReseal(ctx context.Context, q Enqueuer) (store.ResealRun, error) {
	if q == nil {
		return store.ResealRun{}, fmt.Errorf("re-seal needs the job queue, which this process does not run: %w", ErrInvalid)
	}
	last, err := s.db.LatestResealRun(ctx)
	switch {
	case err == nil && !last.Finished():
		return last, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.ResealRun{}, err
	}
	run := store.ResealRun{ID: newID("reseal_"), State: store.ResealQueued}
	if err := s.db.InsertResealRun(ctx, run); err != nil {
		return store.ResealRun{}, err
	}
	// The answer is the run as queued, read before its job can move it on.
	queued, err := s.db.ResealRunByID(ctx, run.ID)
	if err != nil {
		return store.ResealRun{}, err
	}
	if _, err := q.Enqueue(ctx, ResealArgs{RunID: run.ID}, nil); err != nil {
		run.State, run.Error, run.FinishedAt = store.ResealFailed, "the job could not be queued", s.now()
		_ = s.db.UpdateResealRun(context.WithoutCancel(ctx), run)
		return store.ResealRun{}, err
	}
	s.log.Info("re-seal queued", "run_id", run.ID)
	return queued, nil
}

// ResealRun reads a run; an empty id reads the newest.
func (s *Service) ResealRun(ctx context.Context, id string) (store.ResealRun, error) {
	if id == "" {
		return s.db.LatestResealRun(ctx)
	}
	return s.db.ResealRunByID(ctx, id)
}

// rotationChecker is what a Cipher that knows its keys can say: whether a
// ciphertext was sealed under another key than the current one.
type rotationChecker interface {
	NeedsRotation(ciphertext []byte) bool
}

const resealPage = 200

// Reseal runs one re-seal run to its end, writing progress as it goes. A
// value no configured key opens is counted and named (never its bytes)
// and left as it is; the run then ends as ResealPartial. Errors are the
// database's (the job retries).
func (s *Service) Reseal(ctx context.Context, runID string) error {
	run, err := s.db.ResealRunByID(ctx, runID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return river.JobCancel(err)
		}
		return err
	}
	if run.Finished() {
		return nil
	}
	// Each attempt counts afresh: what an earlier attempt re-sealed is now
	// current and is skipped.
	run.State, run.Scanned, run.Resealed, run.Unreadable, run.UnreadableNames, run.Error = store.ResealRunning, 0, 0, 0, nil, ""
	if run.Total, err = s.db.CountSealed(ctx); err != nil {
		return err
	}
	if err := s.db.UpdateResealRun(ctx, run); err != nil {
		return err
	}
	checker, _ := s.cipher.(rotationChecker)
	current := func(b []byte) bool { return checker != nil && !checker.NeedsRotation(b) }
	unreadable := func(name string) {
		run.Unreadable++
		if len(run.UnreadableNames) < store.MaxUnreadableNames {
			run.UnreadableNames = append(run.UnreadableNames, name)
		}
	}

	var env, name string
	for {
		vs, err := s.db.SecretVariablesAfter(ctx, env, name, resealPage)
		if err != nil {
			return err
		}
		for _, v := range vs {
			env, name = v.Env, v.Name
			run.Scanned++
			if current(v.Value) {
				continue
			}
			plain, err := s.cipher.Open(v.Value, variableAAD(v.Env, v.Name))
			if err != nil {
				unreadable("variable " + v.Env + "/" + v.Name)
				continue
			}
			sealed, err := s.cipher.Seal(plain, variableAAD(v.Env, v.Name))
			clear(plain)
			if err != nil {
				return fmt.Errorf("re-seal variable %s/%s: %w", v.Env, v.Name, err)
			}
			// false: written meanwhile, so sealed under the current key already.
			if ok, err := s.db.ReplaceSealedVariable(ctx, v.Env, v.Name, v.Value, sealed); err != nil {
				return err
			} else if ok {
				run.Resealed++
			}
		}
		if err := s.db.UpdateResealRun(ctx, run); err != nil {
			return err
		}
		if len(vs) < resealPage {
			break
		}
	}
	var keyID string
	for {
		ks, err := s.db.EncryptionKeysAfter(ctx, keyID, resealPage)
		if err != nil {
			return err
		}
		for _, k := range ks {
			keyID = k.ID
			run.Scanned++
			if current(k.Sealed) {
				continue
			}
			aad := keyAAD(k.Env, k.WorkflowID, k.ID)
			raw, err := s.cipher.Open(k.Sealed, aad)
			if err != nil {
				unreadable("encryption key " + k.Env + "/" + k.WorkflowID + "/" + k.ID)
				continue
			}
			sealed, err := s.cipher.Seal(raw, aad)
			clear(raw)
			if err != nil {
				return fmt.Errorf("re-seal encryption key %s: %w", k.ID, err)
			}
			if ok, err := s.db.ReplaceSealedKey(ctx, k.ID, k.Sealed, sealed); err != nil {
				return err
			} else if ok {
				run.Resealed++
			}
		}
		if err := s.db.UpdateResealRun(ctx, run); err != nil {
			return err
		}
		if len(ks) < resealPage {
			break
		}
	}
	run.State, run.FinishedAt = store.ResealSucceeded, s.now()
	if run.Unreadable > 0 {
		run.State = store.ResealPartial
		run.Error = fmt.Sprintf("%d sealed values open under none of the configured master keys: set them again (or add the key they were sealed under to FLOWGATE_MASTER_KEY) and re-seal before dropping any key", run.Unreadable)
	}
	if err := s.db.UpdateResealRun(ctx, run); err != nil {
		return err
	}
	s.log.Info("re-seal finished", slog.String("run_id", run.ID), slog.String("state", run.State),
		slog.Int("scanned", run.Scanned), slog.Int("resealed", run.Resealed), slog.Int("unreadable", run.Unreadable))
	return nil
}
