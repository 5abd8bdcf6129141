package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Housekeeping runs as River periodic jobs: runtime log retention and
// per-environment quotas, recording retention (recordings.go), and forgetting old webhook delivery ids. River
// enqueues periodic jobs on its elected leader only, so one replica prunes
// at a time, and a run survives nothing it need not: the next period
// starts afresh.

// Runtime log and delivery bounds (see docs/availability.md).
const (
	DefaultLogRetention      = 7 * 24 * time.Hour
	DefaultLogQuotaRows      = 200_000   // rows kept per environment
	DefaultLogQuotaBytes     = 256 << 20 // message bytes kept per environment
	DefaultDeliveryRetention = 30 * 24 * time.Hour
	DefaultPruneEvery        = 30 * time.Second // how often retention and quotas run
	deliveryPruneEvery       = time.Hour

	// deleteBatch is the rows each delete transaction takes: a few ms on
	// SQLite, whose one connection triggers and log writes share.
	deleteBatch = 500
)

// QueuePrune is the queue housekeeping jobs run on, one at a time (apart
// from the maintenance queue, so a long re-seal never holds pruning up).
const QueuePrune = "prune"

// PruneOptions bound what the housekeeping jobs keep.
type PruneOptions struct {
	LogRetention  time.Duration // runtime logs older than this go (default 7 days)
	LogQuotaRows  int64         // rows kept per environment (default DefaultLogQuotaRows)
	LogQuotaBytes int64         // message bytes kept per environment (default DefaultLogQuotaBytes)
	// DeliveryRetention is how long webhook delivery ids are remembered:
	// GitHub lets people redeliver for a few days (default 30 days).
	DeliveryRetention time.Duration
	Every             time.Duration // how often logs are pruned (default DefaultPruneEvery)
}

func (o PruneOptions) withDefaults() PruneOptions {
	if o.LogRetention <= 0 {
		o.LogRetention = DefaultLogRetention
	}
	if o.LogQuotaRows <= 0 {
		o.LogQuotaRows = DefaultLogQuotaRows
	}
	if o.LogQuotaBytes <= 0 {
		o.LogQuotaBytes = DefaultLogQuotaBytes
	}
	if o.DeliveryRetention <= 0 {
		o.DeliveryRetention = DefaultDeliveryRetention
	}
	if o.Every <= 0 {
		o.Every = DefaultPruneEvery
	}
	return o
}

// notDone are the states in which an equal housekeeping job counts as a
// duplicate: a run still pending or running swallows the next period's.
var notDone = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}

// PruneLogsArgs is the runtime log housekeeping job.
type PruneLogsArgs struct{}

func (PruneLogsArgs) Kind() string { return "flowgate.prune_runtime_logs" }

func (PruneLogsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePrune, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: notDone}}
}

// PruneDeliveriesArgs is the webhook delivery id housekeeping job.
type PruneDeliveriesArgs struct{}

func (PruneDeliveriesArgs) Kind() string { return "flowgate.prune_deliveries" }

func (PruneDeliveriesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePrune, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: notDone}}
}

// pruner does the housekeeping on a Service's store.
type pruner struct {
	svc  *Service
	opts PruneOptions
}

type pruneLogsWorker struct {
	river.WorkerDefaults[PruneLogsArgs]
	p *pruner
}

func (w *pruneLogsWorker) Work(ctx context.Context, _ *river.Job[PruneLogsArgs]) error {
	if _, err := w.p.pruneLogs(ctx); err != nil {
		return err
	}
	if _, err := w.p.enforceQuotas(ctx); err != nil {
		return err
	}
	n, err := w.p.svc.PruneRecordings(ctx)
	if n > 0 {
		w.p.svc.log.Info("pruned recordings", "rows", n)
	}
	return err
}

type pruneDeliveriesWorker struct {
	river.WorkerDefaults[PruneDeliveriesArgs]
	p *pruner
}

func (w *pruneDeliveriesWorker) Work(ctx context.Context, _ *river.Job[PruneDeliveriesArgs]) error {
	n, err := w.p.svc.db.PruneDeliveries(ctx, w.p.svc.now().Add(-w.p.opts.DeliveryRetention))
	if err != nil {
		return fmt.Errorf("prune webhook delivery ids: %w", err)
	}
	if n > 0 {
		w.p.svc.log.Info("pruned webhook delivery ids", "count", n)
	}
	return nil
}

// register adds the housekeeping workers and their periodic schedule.
func (p *pruner) register(workers *river.Workers, cfg *river.Config) error {
	if err := river.AddWorkerSafely(workers, &pruneLogsWorker{p: p}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(workers, &pruneDeliveriesWorker{p: p}); err != nil {
		return err
	}
	start := &river.PeriodicJobOpts{RunOnStart: true}
	cfg.PeriodicJobs = append(cfg.PeriodicJobs,
		river.NewPeriodicJob(river.PeriodicInterval(p.opts.Every),
			func() (river.JobArgs, *river.InsertOpts) { return PruneLogsArgs{}, nil }, start),
		river.NewPeriodicJob(river.PeriodicInterval(deliveryPruneEvery),
			func() (river.JobArgs, *river.InsertOpts) { return PruneDeliveriesArgs{}, nil }, start))
	cfg.Queues[QueuePrune] = river.QueueConfig{MaxWorkers: 1}
	return nil
}

// pruneLogs deletes runtime log rows past the retention, deleteBatch at a
// time: each batch is one short transaction, and other queries get the
// connection between batches.
func (p *pruner) pruneLogs(ctx context.Context) (int64, error) {
	before := p.svc.now().Add(-p.opts.LogRetention)
	var total int64
	for {
		t0 := time.Now()
		n, err := p.svc.db.PruneRuntimeLogs(ctx, before, deleteBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune runtime logs: %w", err)
		}
		if n < deleteBatch {
			break
		}
		if err := pace(ctx, time.Since(t0)); err != nil {
			return total, err
		}
	}
	if total > 0 {
		p.svc.log.Info("pruned runtime logs", "rows", total)
	}
	return total, nil
}

// enforceQuotas deletes each environment's oldest runtime log rows past
// its quota (rows or message bytes), deleteBatch at a time, counting them
// in LogsTrimmed.
func (p *pruner) enforceQuotas(ctx context.Context) (int64, error) {
	totals, err := p.svc.db.RuntimeLogTotals(ctx)
	if err != nil {
		return 0, fmt.Errorf("runtime log totals: %w", err)
	}
	rowsQ, bytesQ := p.opts.LogQuotaRows, p.opts.LogQuotaBytes
	var all int64
	for env, t := range totals {
		for t.Rows > rowsQ || t.Bytes > bytesQ {
			// Rows to go: the larger excess, bytes turned into rows at the
			// environment's average row size; at most one batch.
			n := t.Rows - rowsQ
			if t.Bytes > bytesQ && t.Bytes > 0 {
				n = max(n, ((t.Bytes-bytesQ)*t.Rows+t.Bytes-1)/t.Bytes)
			}
			n = min(max(n, 1), deleteBatch)
			t0 := time.Now()
			got, err := p.svc.db.TrimRuntimeLogs(ctx, env, int(n))
			if err != nil {
				return all, fmt.Errorf("trim runtime logs of %s: %w", env, err)
			}
			if got == 0 {
				break
			}
			all += got
			p.svc.logsTrimmed.Add(uint64(got))
			now, err := p.svc.db.RuntimeLogTotals(ctx)
			if err != nil {
				return all, fmt.Errorf("runtime log totals: %w", err)
			}
			t = now[env]
			if err := pace(ctx, time.Since(t0)); err != nil {
				return all, err
			}
		}
	}
	return all, nil
}

// pace waits twice as long as the last delete batch took: housekeeping
// uses at most about a third of a core, and triggers and log writes get
// the database between batches.
func pace(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(2*d, time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LogsTrimmed counts the runtime log rows this process deleted to keep an
// environment within its quota (metrics).
func (s *Service) LogsTrimmed() uint64 { return s.logsTrimmed.Load() }
