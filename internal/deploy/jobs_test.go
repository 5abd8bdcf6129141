package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
	"github.com/flowgate/flowgate/internal/testenv"
)

// soonRetry retries failed jobs after a moment, so tests need not wait
// for River's default backoff.
type soonRetry struct{}

func (soonRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(50 * time.Millisecond) }

// quietLogger keeps River's info lines out of test output.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newJobs(t *testing.T, s *Service, f Fetcher, rescueAfter ...time.Duration) *Jobs {
	t.Helper()
	opts := JobsOptions{Store: s.db, Service: s,
		Fetchers: map[string]Fetcher{"test": f}, PollInterval: 50 * time.Millisecond, RetryPolicy: soonRetry{},
		Logger: quietLogger()}
	if len(rescueAfter) > 0 {
		opts.RescueStuckJobsAfter, opts.JobTimeout = rescueAfter[0], rescueAfter[0]/2
	}
	j, err := NewJobs(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func startJobs(t *testing.T, j *Jobs) {
	t.Helper()
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = j.Stop(ctx)
	})
}

// waitState polls a job until it reaches state, for at most a minute (a
// bound against hangs, not a timing assertion).
func waitState(t *testing.T, j *Jobs, id int64, want string) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st, attempt, err := j.JobState(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st == want {
			return attempt
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s after a minute, want %s", id, st, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSyncJobDeduplicatedAndClaimedOnce(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s1, _ := e.service(t)
		s2, _ := e.service(t)
		dir := twoWorkflows(t, "v1")
		var mu sync.Mutex
		fetched := map[string]int{}
		f := FetcherFunc(func(ctx context.Context, src JobSource, sha, dst string) (Fetched, error) {
			mu.Lock()
			fetched[sha]++
			mu.Unlock()
			return DirFetcher.Fetch(ctx, src, sha, dst)
		})
		j1, j2 := newJobs(t, s1, f), newJobs(t, s2, f)

		// One push delivered twice, to two replicas: one job.
		args := SyncArgs{Env: "prod", Source: JobSource{Kind: "test", Ref: dir}, CommitSHA: "sha1"}
		r1, err := j1.EnqueueSync(ctx, args)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := j2.EnqueueSync(ctx, args)
		if err != nil {
			t.Fatal(err)
		}
		if r1.Duplicate || !r2.Duplicate || r1.JobID != r2.JobID {
			t.Fatalf("enqueue results %+v, %+v: want the second to be a duplicate of the first", r1, r2)
		}
		// More distinct jobs, so both replicas compete for work.
		ids := []int64{r1.JobID}
		for i := 0; i < 5; i++ {
			r, err := j1.EnqueueSync(ctx, SyncArgs{Env: "prod", Source: JobSource{Kind: "test", Ref: dir}, CommitSHA: fmt.Sprintf("sha-x%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.JobID)
		}
		startJobs(t, j1)
		startJobs(t, j2)
		for _, id := range ids {
			if attempt := waitState(t, j1, id, "completed"); attempt != 1 {
				t.Errorf("job %d completed on attempt %d, want 1 (claimed once)", id, attempt)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if fetched["sha1"] != 1 || len(fetched) != 6 {
			t.Fatalf("fetches per commit = %v, want each commit once", fetched)
		}
		for sha, n := range fetched {
			if n != 1 {
				t.Errorf("commit %s worked %d times", sha, n)
			}
		}
		syncs, _ := s1.Syncs(ctx, "prod", 100)
		if len(syncs) != 6 {
			t.Fatalf("%d syncs recorded, want 6", len(syncs))
		}
		// A completed commit enqueued again is still a duplicate…
		if r, _ := j1.EnqueueSync(ctx, args); !r.Duplicate {
			t.Fatal("a finished sync of the same commit was queued again")
		}
		// …unless a re-sync is asked for.
		args.Resync = "manual-1"
		if r, _ := j1.EnqueueSync(ctx, args); r.Duplicate {
			t.Fatal("an explicit re-sync was treated as a duplicate")
		}
		checkInvariants(t, s1)
	})
}

func TestSyncJobSurvivesRestart(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s1, _ := e.service(t)
		dir := twoWorkflows(t, "v1")
		started := make(chan struct{})
		var calls atomic.Int32
		f := FetcherFunc(func(ctx context.Context, src JobSource, sha, dst string) (Fetched, error) {
			if calls.Add(1) == 1 {
				close(started)
				<-ctx.Done() // the process is going down mid-job
				return Fetched{}, ctx.Err()
			}
			return DirFetcher.Fetch(ctx, src, sha, dst)
		})
		j1 := newJobs(t, s1, f)
		if err := j1.Start(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := j1.EnqueueSync(ctx, SyncArgs{Env: "prod", Source: JobSource{Kind: "test", Ref: dir}, CommitSHA: "sha1"})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-started:
		case <-time.After(time.Minute):
			t.Fatal("job never started")
		}
		stopCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err = j1.Stop(stopCtx) // graceful stop runs out, then cancels the job
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if st, _, _ := j1.JobState(ctx, r.JobID); st == "completed" {
			t.Fatal("job completed although its worker was cancelled")
		}
		// The "restarted" process: a new store handle, Service and client.
		s2, _ := e.service(t)
		j2 := newJobs(t, s2, f)
		startJobs(t, j2)
		waitState(t, j2, r.JobID, "completed")
		// River does not count an attempt its own shutdown cancelled; what
		// matters is that the work ran again and finished.
		if n := calls.Load(); n != 2 {
			t.Fatalf("worker ran %d times, want 2 (interrupted, then resumed)", n)
		}
		if ids := liveIDs(t, s2); ids["a"] == "" || ids["b"] == "" {
			t.Fatalf("after the resumed sync, live = %v", ids)
		}
		// The cancelled run is recorded as interrupted, the resumed one
		// succeeded.
		syncs, _ := s2.Syncs(ctx, "prod", 10)
		if len(syncs) != 2 || syncs[0].Status != store.SyncSucceeded || syncs[1].Status != store.SyncInterrupted {
			t.Fatalf("syncs = %+v", syncs)
		}
	})
}

func TestSyncJobRescuedAfterItsProcessDied(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		dir := twoWorkflows(t, "v1")
		var calls atomic.Int32
		f := FetcherFunc(func(ctx context.Context, src JobSource, sha, dst string) (Fetched, error) {
			calls.Add(1)
			return DirFetcher.Fetch(ctx, src, sha, dst)
		})
		j := newJobs(t, s, f, time.Minute)
		r, err := j.EnqueueSync(ctx, SyncArgs{Env: "prod", Source: JobSource{Kind: "test", Ref: dir}, CommitSHA: "sha1"})
		if err != nil {
			t.Fatal(err)
		}
		// A replica claimed the job an hour ago and was killed (no clean
		// stop ran): the row says "running" and nobody works it.
		q := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', '-1 hour', 'subsec') WHERE id = ?`
		if b.Name == "postgres" {
			q = `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 hour' WHERE id = $1`
		}
		if _, err := s.db.SQL().ExecContext(ctx, q, r.JobID); err != nil {
			t.Fatal(err)
		}
		startJobs(t, j)
		if attempt := waitState(t, j, r.JobID, "completed"); attempt != 2 {
			t.Fatalf("rescued job completed on attempt %d, want 2", attempt)
		}
		if n := calls.Load(); n != 1 {
			t.Fatalf("worked %d times, want 1", n)
		}
		if ids := liveIDs(t, s); ids["a"] == "" {
			t.Fatal("rescued sync did not deploy")
		}
	})
}

// otherArgs is a job of another kind than syncs (as GitHub deliveries are).
type otherArgs struct {
	Name string `json:"name" river:"unique"`
}

func (otherArgs) Kind() string { return "flowgate.test_other" }
func (otherArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "other", UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type otherWorker struct {
	river.WorkerDefaults[otherArgs]
	mu  sync.Mutex
	ran map[string]int
}

func (w *otherWorker) Work(_ context.Context, job *river.Job[otherArgs]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ran[job.Args.Name]++
	return nil
}

func (w *otherWorker) count(name string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ran[name]
}

// A job of another kind claimed by a process that died is released within
// a few lease checks, not after River's rescue interval; one held by a
// process that still renews its lease is left alone.
func TestJobsReleaseOtherJobsOfADeadProcess(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t, svcOpts{realClock: true})
		// A lease no load outlasts between the live process's beats (every
		// 20ms); the dead process's last beat is an hour old, and the lease
		// checks run every 50ms.
		s.lease = time.Minute
		w := &otherWorker{ran: map[string]int{}}
		j, err := NewJobs(ctx, JobsOptions{Store: s.db, Service: s, PollInterval: 50 * time.Millisecond,
			TakeOverInterval: 50 * time.Millisecond,
			RetryPolicy:      soonRetry{}, Logger: quietLogger(),
			// River's rescuer is far off: only the lease releases jobs here.
			RescueStuckJobsAfter: 2 * time.Hour,
			Register:             func(ws *river.Workers) error { return river.AddWorkerSafely(ws, w) },
			Queues:               map[string]river.QueueConfig{"other": {MaxWorkers: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		claim := func(name, by string) int64 {
			r, err := j.Enqueue(ctx, otherArgs{Name: name}, nil)
			if err != nil {
				t.Fatal(err)
			}
			q := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', '-1 hour', 'subsec'),
				attempted_by = jsonb(?) WHERE id = ?`
			arg := any(`["` + by + `"]`)
			if b.Name == "postgres" {
				q = `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 hour',
					attempted_by = $1 WHERE id = $2`
				arg = "{" + by + "}"
			}
			if _, err := s.db.SQL().ExecContext(ctx, q, arg, r.JobID); err != nil {
				t.Fatal(err)
			}
			return r.JobID
		}
		dead := claim("dead", "process-that-died")
		live := claim("live", "process-still-alive")
		// The live process renews its lease for the whole test, from before
		// this process starts (its start releases every claim of a process
		// with no live lease).
		if err := s.db.BeatJobProcess(ctx, "process-still-alive", time.Now()); err != nil {
			t.Fatal(err)
		}
		bctx, stop := context.WithCancel(ctx)
		beat := make(chan struct{})
		go func() {
			defer close(beat)
			for bctx.Err() == nil {
				_ = s.db.BeatJobProcess(bctx, "process-still-alive", time.Now())
				select {
				case <-bctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		t.Cleanup(func() { stop(); <-beat })
		if err := s.db.BeatJobProcess(ctx, "process-that-died", time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		startJobs(t, j)
		if got := waitState(t, j, dead, "completed"); got != 2 {
			t.Fatalf("released job ran as attempt %d, want 2", got)
		}
		if n := w.count("dead"); n != 1 {
			t.Fatalf("released job ran %d times", n)
		}
		// Several lease checks later the live process's job is untouched.
		for range 3 {
			if _, err := j.TakeOver(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if st, attempt, _ := j.JobState(ctx, live); st != "running" || attempt != 1 || w.count("live") != 0 {
			t.Fatalf("a live process's job was released: %s attempt %d, ran %d times", st, attempt, w.count("live"))
		}
		// Releasing is once per attempt: the released row is no longer that attempt.
		if ok, err := s.db.ReleaseRunningJob(ctx, dead, 1); err != nil || ok {
			t.Fatalf("second release of the same attempt: %v %v", ok, err)
		}
	})
}

// TestRiverLogsOnlyWarnings: River's own INFO lines (its start and stop,
// job counts every 30 s) stay out of the service's log; its warnings
// still show, marked as River's.
func TestRiverLogsOnlyWarnings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLiteURL(t))
	s, _ := e.service(t)
	var out testenv.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	j, err := NewJobs(context.Background(), JobsOptions{Store: s.db, Service: s,
		Fetchers: map[string]Fetcher{"test": DirFetcher}, PollInterval: 50 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "component=river") {
		t.Errorf("River's start and stop were logged:\n%s", out.String())
	}

	rl := riverLogger(log)
	rl.Info("producer: job counts")
	rl.Warn("producer: error fetching jobs")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "component=river") {
		t.Errorf("want River's warning alone, with its component; got:\n%s", out.String())
	}
}
