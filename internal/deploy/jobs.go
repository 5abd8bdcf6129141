package deploy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/flowgate/flowgate/internal/store"
)

// Durable jobs run on River in the store's own database: riverpgxv5 on
// PostgreSQL (rows claimed with FOR UPDATE SKIP LOCKED, so each job has one
// worker across replicas) and riversqlite on SQLite. A job survives a
// crash: a retryable job waits for its backoff, a job left "running" by a
// dead process is rescued after RescueStuckJobsAfter. Syncs do not wait for
// that: each run holds a heartbeat lease in its sync record, and every
// replica's takeover loop queues a takeover job for a run whose heartbeat
// stopped (Service.TakeOver), within seconds. Nor do jobs of other kinds
// (GitHub deliveries, reseals): every process working jobs renews a lease
// (job_processes), and a job "running" past the lease in a process whose
// lease lapsed is made available again (releaseStuckJobs).
//
// Adding a job kind (e.g. the GitHub DeliveryJob):
//
//  1. Define its args: a JSON struct with Kind() (a stable string, never
//     renamed: stored rows name it) and, optionally, InsertOpts() for its
//     queue, attempts and uniqueness (see SyncArgs).
//  2. Write a worker embedding river.WorkerDefaults[YourArgs] with Work.
//     Return an error to retry with backoff, river.JobCancel(err) to give up.
//  3. Register it through JobsOptions.Register:
//     Register: func(w *river.Workers) error { return river.AddWorkerSafely(w, &DeliveryWorker{…}) }
//     and, if it uses its own queue, add the queue to JobsOptions.Queues.
//  4. Enqueue with Jobs.Enqueue(ctx, YourArgs{…}, nil).

// QueueSync is the queue sync jobs run on.
const QueueSync = "sync"

// JobSource says where a sync's code comes from.
type JobSource struct {
	Kind string `json:"kind"` // a registered source kind: "dir", "dev", "github"
	Ref  string `json:"ref"`  // kind-specific: a directory, "owner/repo"…
	// Meta is kind-specific data its Fetcher and Reporter need (GitHub:
	// the installation, the delivery).
	Meta json.RawMessage `json:"meta,omitempty"`
}

// SyncArgs is the sync job. A sync is (Env, CommitSHA, Resync): jobs with
// the same are one job, and once the sync finished, running it again does
// nothing (Service.Run), even after River forgot the job. Set Resync to a
// fresh value to sync a commit again on purpose. Takeover names the sync
// whose process died that this job takes over: a new job, not swallowed
// as a duplicate of the dead one.
type SyncArgs struct {
	Env         string    `json:"env" river:"unique"`
	Source      JobSource `json:"source"`
	CommitSHA   string    `json:"commitSha" river:"unique"`
	Resync      string    `json:"resync,omitempty" river:"unique"`
	Takeover    string    `json:"takeover,omitempty" river:"unique"`
	RequestedAt time.Time `json:"requestedAt"`
	Changed     []string  `json:"changed,omitempty"`
}

// Kind names the job in River's table.
func (SyncArgs) Kind() string { return "flowgate.sync" }

// InsertOpts: the sync queue, unique by the fields tagged river:"unique",
// and a bounded number of attempts.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSync, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// JobsOptions configure Jobs. Store and Service are required.
type JobsOptions struct {
	Store   *store.DB
	Service *Service
	// Fetchers by JobSource.Kind, registered with the Service ("dir" and
	// "dev" always are).
	Fetchers map[string]Fetcher
	Logger   *slog.Logger
	// SyncWorkers is how many syncs one replica runs at once (default 2).
	SyncWorkers int
	// Register adds workers of other job kinds.
	Register func(w *river.Workers) error
	// Queues adds queues for other job kinds.
	Queues map[string]river.QueueConfig
	// RetryPolicy decides backoff (default River's: attempt⁴ seconds).
	RetryPolicy river.ClientRetryPolicy
	// JobTimeout cancels a job's context (default 10 minutes).
	JobTimeout time.Duration
	// RescueStuckJobsAfter retries a job still "running" this long after
	// it started: its process died (default JobTimeout + 5 minutes).
	RescueStuckJobsAfter time.Duration
	// PollInterval is how often idle workers look for jobs (default 1s).
	PollInterval time.Duration
	// TakeOverInterval is how often this replica looks for syncs whose
	// process died (default: a fifth of the Service's Lease).
	TakeOverInterval time.Duration
	// SoleProcess says this process is the only one working the database
	// (the embedded SQLite default): at Start every sync still "running"
	// belongs to a process that died, and is taken over at once instead of
	// after its lease.
	SoleProcess bool
	// Prune bounds runtime logs and delivery ids (the housekeeping jobs).
	Prune PruneOptions
	// ID names this client (default: River's random id).
	ID string
	// InsertOnly makes a client that enqueues but never works jobs.
	InsertOnly bool
}

// EnqueueResult says what an Enqueue did.
type EnqueueResult struct {
	JobID     int64
	Duplicate bool // an equal unique job existed; nothing new was queued
}

// riverClient is what *river.Client[pgx.Tx] and *river.Client[*sql.Tx] share.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	ID() string
}

// Jobs is the durable job queue of one replica.
type Jobs struct {
	client     riverClient
	log        *slog.Logger
	svc        *Service
	takeEvery  time.Duration
	insertOnly bool
	sole       bool
	// created is when this client was made, on the Service's clock and on
	// the wall clock: a sole process's syncs and jobs from before it are
	// a dead process's; anything later is its own.
	created, createdWall time.Time
	stopTake             context.CancelFunc
	takeDone             chan struct{}
}

// NewJobs migrates River's tables (once, whichever replica comes first)
// and returns a client ready to Start.
func NewJobs(ctx context.Context, opts JobsOptions) (*Jobs, error) {
	if opts.Store == nil || opts.Service == nil {
		return nil, errors.New("deploy: JobsOptions.Store and Service are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	for k, f := range opts.Fetchers {
		opts.Service.RegisterSource(k, f, nil)
	}
	if opts.TakeOverInterval <= 0 {
		opts.TakeOverInterval = opts.Service.lease / 5
	}
	if opts.SyncWorkers <= 0 {
		opts.SyncWorkers = 2
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 10 * time.Minute
	}
	if opts.RescueStuckJobsAfter <= 0 {
		opts.RescueStuckJobsAfter = opts.JobTimeout + 5*time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	cfg := &river.Config{
		ID:                   opts.ID,
		Logger:               riverLogger(log),
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter,
		RetryPolicy:          opts.RetryPolicy,
		FetchPollInterval:    opts.PollInterval,
		FetchCooldown:        min(opts.PollInterval, river.FetchCooldownDefault),
	}
	if !opts.InsertOnly {
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &syncWorker{svc: opts.Service, log: log}); err != nil {
			return nil, fmt.Errorf("deploy: register sync worker: %w", err)
		}
		if opts.Register != nil {
			if err := opts.Register(workers); err != nil {
				return nil, fmt.Errorf("deploy: register workers: %w", err)
			}
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{QueueSync: {MaxWorkers: opts.SyncWorkers}}
		for name, q := range opts.Queues {
			cfg.Queues[name] = q
		}
		p := &pruner{svc: opts.Service, opts: opts.Prune.withDefaults()}
		if err := p.register(workers, cfg); err != nil {
			return nil, fmt.Errorf("deploy: register housekeeping: %w", err)
		}
	}

	db := opts.Store
	var client riverClient
	switch db.Dialect() {
	case store.Postgres:
		driver := riverpgxv5.New(db.Pool())
		if err := migrateRiverPostgres(ctx, db, driver); err != nil {
			return nil, err
		}
		c, err := river.NewClient[pgx.Tx](driver, cfg)
		if err != nil {
			return nil, fmt.Errorf("deploy: river client: %w", err)
		}
		client = c
	case store.SQLite:
		driver := riversqlite.New(db.SQL())
		if err := migrateRiver(ctx, driver); err != nil {
			return nil, err
		}
		cfg.PollOnly = true // SQLite has no LISTEN/NOTIFY
		c, err := river.NewClient[*sql.Tx](driver, cfg)
		if err != nil {
			return nil, fmt.Errorf("deploy: river client: %w", err)
		}
		client = c
	default:
		return nil, fmt.Errorf("deploy: no job driver for %s", db.Dialect())
	}
	return &Jobs{client: client, log: log, svc: opts.Service, takeEvery: opts.TakeOverInterval, insertOnly: opts.InsertOnly,
		sole: opts.SoleProcess, created: opts.Service.now(), createdWall: time.Now()}, nil
}

// migrateRiver applies River's own migrations.
func migrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("deploy: river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("deploy: river migrations: %w", err)
	}
	return nil
}

// riverMigrationLock serialises replicas running River's migrations.
const riverMigrationLock = 0x72697672 // "rivr"

// migrateRiverPostgres runs River's migrations under a session advisory
// lock, so replicas starting together migrate once.
func migrateRiverPostgres(ctx context.Context, db *store.DB, driver *riverpgxv5.Driver) error {
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		return fmt.Errorf("deploy: river migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(riverMigrationLock)); err != nil {
		return fmt.Errorf("deploy: river migration lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", int64(riverMigrationLock))
	}()
	return migrateRiver(ctx, driver)
}

// Start begins working jobs, and looking for syncs whose process died
// (taken over within a lease and a few seconds, not River's rescue
// interval); it returns at once.
func (j *Jobs) Start(ctx context.Context) error {
	if err := j.client.Start(ctx); err != nil {
		return fmt.Errorf("deploy: start jobs: %w", err)
	}
	if j.sole && !j.insertOnly {
		// Every sync, and every sync job, still "running" from before this
		// client was made is the dead process's (a sync this process began
		// since — a direct API call — is not).
		n, err := j.svc.takeOver(ctx, j.created, j.enqueueTakeover)
		if err == nil {
			var m int
			m, err = j.takeOverStuckJobs(ctx, j.createdWall)
			n += m
		}
		if err == nil {
			var m int
			m, err = j.releaseStuckJobs(ctx, j.createdWall, false)
			n += m
		}
		if err != nil {
			j.log.Warn("take over syncs left running by the previous process", "err", err)
		} else if n > 0 {
			j.log.Info("took over syncs left running by the previous process", "count", n)
		}
	}
	if !j.insertOnly && j.stopTake == nil {
		tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		j.stopTake, j.takeDone = cancel, make(chan struct{})
		go j.takeOverLoop(tctx)
	}
	return nil
}

// takeOverLoop re-queues syncs whose heartbeat stopped.
func (j *Jobs) takeOverLoop(ctx context.Context) {
	defer close(j.takeDone)
	t := time.NewTicker(j.takeEvery)
	defer t.Stop()
	for {
		if err := j.svc.db.BeatJobProcess(ctx, j.client.ID(), time.Now()); err != nil && ctx.Err() == nil {
			j.log.Warn("renew this process's job lease", "err", err)
		}
		if _, err := j.TakeOver(ctx); err != nil && ctx.Err() == nil {
			j.log.Warn("take over syncs of dead processes", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TakeOver re-queues, once each, the syncs whose process died: those
// whose heartbeat stopped, and sync jobs a dead process claimed before
// their sync started (still "running" past the lease, with no live sync).
func (j *Jobs) TakeOver(ctx context.Context) (int, error) {
	n, err := j.svc.TakeOver(ctx, j.enqueueTakeover)
	if err != nil {
		return n, err
	}
	cutoff := time.Now().Add(-j.svc.lease)
	m, err := j.takeOverStuckJobs(ctx, cutoff)
	n += m
	if err != nil {
		return n, err
	}
	m, err = j.releaseStuckJobs(ctx, cutoff, true)
	return n + m, err
}

// releaseStuckJobs makes jobs of other kinds than syncs (GitHub
// deliveries, reseals…) "running" since before cutoff available again
// when the process that claimed them holds no live lease (checkAlive;
// at a sole process's start every earlier claim is a dead process's).
// Each attempt is released once: the release is conditional on the
// attempt, so replicas racing release it once and the job runs once more.
func (j *Jobs) releaseStuckJobs(ctx context.Context, cutoff time.Time, checkAlive bool) (int, error) {
	res, err := j.client.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateRunning).First(100))
	if err != nil {
		return 0, fmt.Errorf("deploy: list running jobs: %w", err)
	}
	n := 0
	for _, row := range res.Jobs {
		if row.Kind == (SyncArgs{}).Kind() || row.AttemptedAt == nil || !row.AttemptedAt.Before(cutoff) {
			continue
		}
		if checkAlive && len(row.AttemptedBy) > 0 {
			alive, err := j.svc.db.JobProcessAlive(ctx, row.AttemptedBy[len(row.AttemptedBy)-1], cutoff)
			if err != nil {
				return n, err
			}
			if alive {
				continue
			}
		}
		ok, err := j.svc.db.ReleaseRunningJob(ctx, row.ID, row.Attempt)
		if err != nil {
			return n, err
		}
		if ok {
			n++
			j.log.Warn("job stuck in a dead process; released to run again", "job_id", row.ID, "kind", row.Kind, "attempt", row.Attempt)
		}
	}
	return n, nil
}

// takeOverStuckJobs queues a takeover for each sync job "running" since
// before cutoff that no live sync run stands behind. The takeover is
// unique per job attempt, so each is queued once.
func (j *Jobs) takeOverStuckJobs(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := j.client.JobList(ctx, river.NewJobListParams().Kinds(SyncArgs{}.Kind()).
		States(rivertype.JobStateRunning).First(100))
	if err != nil {
		return 0, fmt.Errorf("deploy: list running sync jobs: %w", err)
	}
	n := 0
	for _, row := range res.Jobs {
		if row.AttemptedAt == nil || !row.AttemptedAt.Before(cutoff) {
			continue
		}
		var a SyncArgs
		if err := json.Unmarshal(row.EncodedArgs, &a); err != nil || a.Env == "" {
			continue
		}
		alive, err := j.svc.syncAlive(ctx, a)
		if err != nil {
			return n, err
		}
		if alive {
			continue
		}
		a.Takeover = fmt.Sprintf("job-%d-%d", row.ID, row.Attempt)
		r, err := j.Enqueue(ctx, a, nil)
		if err != nil {
			return n, err
		}
		if !r.Duplicate {
			n++
			j.log.Warn("sync job stuck in a dead process; taken over", "job_id", row.ID, "env", a.Env, "commit", short(a.CommitSHA))
		}
	}
	return n, nil
}

func (j *Jobs) enqueueTakeover(ctx context.Context, a SyncArgs) error {
	_, err := j.Enqueue(ctx, a, nil)
	return err
}

// Stop stops fetching jobs and waits for running ones until ctx ends;
// then their contexts are cancelled and they are retried later.
func (j *Jobs) Stop(ctx context.Context) error {
	if j.stopTake != nil {
		j.stopTake()
		<-j.takeDone
		// Its lease goes once its jobs stopped (a job still running is
		// released to another replica only after the lease lapsed).
		defer func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := j.svc.db.ForgetJobProcess(fctx, j.client.ID()); err != nil {
				j.log.Warn("forget this process's job lease", "err", err)
			}
		}()
	}
	err := j.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = j.client.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("deploy: stop jobs: %w", err)
	}
	return nil
}

// Enqueue queues a job of any registered kind.
func (j *Jobs) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (EnqueueResult, error) {
	res, err := j.client.Insert(ctx, args, opts)
	if err != nil {
		return EnqueueResult{}, fmt.Errorf("deploy: enqueue %s: %w", args.Kind(), err)
	}
	return EnqueueResult{JobID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}, nil
}

// EnqueueSync queues a sync (RequestedAt defaults to now). When an equal
// job exists but is stuck — "running" past the lease with no live sync
// behind it (its process died before the sync started) — a takeover job
// is queued instead of swallowing the request.
func (j *Jobs) EnqueueSync(ctx context.Context, args SyncArgs) (EnqueueResult, error) {
	if err := checkEnv(args.Env); err != nil {
		return EnqueueResult{}, err
	}
	if args.CommitSHA == "" {
		return EnqueueResult{}, fmt.Errorf("sync needs a commit sha: %w", ErrInvalid)
	}
	if args.RequestedAt.IsZero() {
		args.RequestedAt = time.Now().UTC()
	}
	res, err := j.Enqueue(ctx, args, nil)
	if err != nil || !res.Duplicate {
		return res, err
	}
	row, err := j.client.JobGet(ctx, res.JobID)
	if err != nil || row.State != rivertype.JobStateRunning || row.AttemptedAt == nil ||
		time.Since(*row.AttemptedAt) < j.svc.lease {
		return res, nil
	}
	alive, err := j.svc.syncAlive(ctx, args)
	if err != nil || alive {
		return res, err
	}
	args.Takeover = fmt.Sprintf("job-%d-%d", row.ID, row.Attempt)
	j.log.Warn("sync job stuck in a dead process; taken over", "job_id", row.ID, "env", args.Env, "commit", short(args.CommitSHA))
	return j.Enqueue(ctx, args, nil)
}

// JobState reports a job's state ("available", "running", "completed",
// "retryable", "discarded", …) and attempt count.
func (j *Jobs) JobState(ctx context.Context, id int64) (state string, attempt int, err error) {
	row, err := j.client.JobGet(ctx, id)
	if err != nil {
		return "", 0, fmt.Errorf("deploy: job %d: %w", id, err)
	}
	return string(row.State), row.Attempt, nil
}

// syncWorker runs SyncArgs jobs.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	svc *Service
	log *slog.Logger
}

func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	a := job.Args
	res, err := w.svc.Run(ctx, SyncRequest{Env: a.Env, Source: a.Source, CommitSHA: a.CommitSHA, Resync: a.Resync,
		Changed: a.Changed, RequestedAt: a.RequestedAt, takeover: a.Takeover})
	switch {
	case errors.Is(err, store.ErrNotRunning):
		return nil // taken over by another worker, which finishes it
	case errors.Is(err, ErrInvalid):
		return river.JobCancel(err)
	case err != nil:
		return err // River retries with backoff
	}
	logSyncOutcome(w.log, a, res, job.Attempt)
	return nil
}

// riverLogger is log for River's own lines, from WARN up: at INFO River
// reports its start, stop and per-queue job counts every 30 seconds,
// which buries the service's own lines; its warnings and errors (a job
// that failed, a lost connection) still show.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(warnAndUp{log.Handler()}).With("component", "river")
}

type warnAndUp struct{ slog.Handler }

func (h warnAndUp) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndUp) WithAttrs(as []slog.Attr) slog.Handler { return warnAndUp{h.Handler.WithAttrs(as)} }
func (h warnAndUp) WithGroup(name string) slog.Handler    { return warnAndUp{h.Handler.WithGroup(name)} }
