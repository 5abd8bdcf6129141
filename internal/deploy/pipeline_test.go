package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

// A sync is (environment, commit): running it again after it finished
// changes nothing — not even after a person rolled back in between.
func TestSyncRunAgainDoesNothing(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		r2 := mustSync(t, s, twoWorkflows(t, "v2"), "sha2")
		if _, err := s.Rollback(ctx, "prod", "a", Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		before := liveIDs(t, s)
		again := mustSync(t, s, twoWorkflows(t, "v2"), "sha2")
		if !again.Replayed || again.Sync.ID != r2.Sync.ID || len(again.Deployments) != len(r2.Deployments) {
			t.Fatalf("second run of sha2: replayed %v, sync %s (first %s)", again.Replayed, again.Sync.ID, r2.Sync.ID)
		}
		if after := liveIDs(t, s); after["a"] != before["a"] || after["b"] != before["b"] {
			t.Fatalf("running a finished sync again moved pointers: %v -> %v", before, after)
		}
		syncs, _ := s.Syncs(ctx, "prod", 10)
		if len(syncs) != 2 {
			t.Fatalf("%d syncs recorded, want 2", len(syncs))
		}
		// On purpose, with Resync, it syncs again.
		res, err := s.Run(ctx, SyncRequest{Env: "prod", Dir: twoWorkflows(t, "v2"), CommitSHA: "sha2", Resync: "rerun-1"})
		if err != nil || res.Replayed || depOf(t, res, "a").Status != store.Live {
			t.Fatalf("resync: %+v, %v", res, err)
		}
		checkInvariants(t, s)
	})
}

// A make-live, rollback or deactivate made after a commit was pushed wins
// over that commit's sync, however late it runs.
func TestManualFlipAfterRequestWins(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		mustSync(t, s, twoWorkflows(t, "v2"), "sha2")
		pushed := e.clock.Now() // sha3 is pushed now, and synced later
		rolled, err := s.Rollback(ctx, "prod", "a", Actor{Name: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Run(ctx, SyncRequest{Env: "prod", Dir: twoWorkflows(t, "v3"), CommitSHA: "sha3", RequestedAt: pushed})
		if err != nil {
			t.Fatal(err)
		}
		if res.Sync.Status != store.SyncSucceeded || depOf(t, res, "a").Status != store.Deployed {
			t.Fatalf("late sync of an earlier push: %s, a is %s", res.Sync.Status, depOf(t, res, "a").Status)
		}
		if live := liveIDs(t, s); live["a"] != rolled.ID {
			t.Fatalf("the rollback was undone: live a = %s, rolled back to %s", live["a"], rolled.ID)
		}
		if !strings.Contains(res.Sync.Log[len(res.Sync.Log)-1].Message, "by hand") {
			t.Errorf("log does not say why: %+v", res.Sync.Log)
		}
		// A commit pushed after the rollback goes live as usual.
		r4 := mustSync(t, s, twoWorkflows(t, "v4"), "sha4")
		if depOf(t, r4, "a").Status != store.Live {
			t.Fatal("a later push did not go live")
		}
		checkInvariants(t, s)
	})
}

// blockingFetcher never returns until released: the process running it
// "dies" (its heartbeat stops) while it waits.
type blockingFetcher struct {
	started, release chan struct{}
}

func (f *blockingFetcher) Fetch(ctx context.Context, src JobSource, sha, dst string) (Fetched, error) {
	close(f.started)
	<-f.release
	return DirFetcher.Fetch(context.WithoutCancel(ctx), src, sha, dst)
}

// A sync whose process died is taken over once its lease ends; the
// takeover does not undo a rollback made after the push; and the dead
// run, should it wake up, records nothing.
func TestDeadSyncTakenOverWithoutUndoingAFlip(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		live, _ := e.service(t)
		mustSync(t, live, twoWorkflows(t, "v1"), "sha1")
		mustSync(t, live, twoWorkflows(t, "v2"), "sha2")

		// The doomed replica: its clock stands still, so its heartbeats
		// stay at the start while the world moves on.
		frozen := e.clock.Now()
		dead, _ := e.service(t)
		dead.now = func() time.Time { return frozen }
		f := &blockingFetcher{started: make(chan struct{}), release: make(chan struct{})}
		dead.RegisterSource("slow", f, nil)
		live.RegisterSource("slow", FetcherFunc(DirFetcher), nil)
		dir := twoWorkflows(t, "v3")
		done := make(chan error, 1)
		go func() {
			_, err := dead.Run(ctx, SyncRequest{Env: "prod", Source: JobSource{Kind: "slow", Ref: dir}, CommitSHA: "sha3", RequestedAt: frozen})
			done <- err
		}()
		<-f.started
		rolled, err := live.Rollback(ctx, "prod", "a", Actor{Name: "admin"})
		if err != nil {
			t.Fatal(err)
		}

		var queued []SyncArgs
		enqueue := func(_ context.Context, a SyncArgs) error { queued = append(queued, a); return nil }
		if n, err := live.TakeOver(ctx, enqueue); err != nil || n != 0 {
			t.Fatalf("took over %d syncs within their lease (%v)", n, err)
		}
		e.clock.Advance(live.lease + time.Second)
		if n, err := live.TakeOver(ctx, enqueue); err != nil || n != 1 || len(queued) != 1 {
			t.Fatalf("took over %d syncs (%v), queued %+v; want the dead one", n, err, queued)
		}
		a := queued[0]
		if a.CommitSHA != "sha3" || a.Takeover == "" || !a.RequestedAt.Equal(frozen.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("takeover args %+v", a)
		}
		res, err := live.Run(ctx, SyncRequest{Env: a.Env, Source: a.Source, CommitSHA: a.CommitSHA, RequestedAt: a.RequestedAt, takeover: a.Takeover})
		if err != nil || res.Sync.Status != store.SyncSucceeded {
			t.Fatalf("takeover: %+v, %v", res, err)
		}
		if got := liveIDs(t, live)["a"]; got != rolled.ID {
			t.Fatalf("the takeover undid the rollback: live a = %s, want %s", got, rolled.ID)
		}

		// The dead run wakes up: it was taken over, so it changes nothing.
		before := liveIDs(t, live)
		close(f.release)
		if err := <-done; err == nil {
			t.Fatal("the dead run finished as if it still owned the sync")
		}
		if after := liveIDs(t, live); after["a"] != before["a"] || after["b"] != before["b"] {
			t.Fatalf("the dead run moved pointers: %v -> %v", before, after)
		}
		syncs, _ := live.Syncs(ctx, "prod", 10)
		var states []string
		for _, y := range syncs {
			if y.CommitSHA == "sha3" {
				states = append(states, y.Status)
			}
		}
		if strings.Join(states, ",") != "succeeded,crashed" {
			t.Fatalf("sha3's syncs: %v, want the takeover succeeded and the dead run crashed", states)
		}
		checkInvariants(t, live)
	})
}

// signalWriter closes seen the first time a log line contains text.
type signalWriter struct {
	text string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.text)) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// Two workers handed one sync at once (River rescuing a job a takeover
// also re-queued, a redelivery on another replica): one runs it, the
// other waits and answers with its outcome. The work is done once.
func TestSameSyncHandedToTwoWorkersRunsOnce(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		first, _ := e.service(t)
		second, _ := e.service(t)
		waiting := &signalWriter{text: "waiting for its outcome", seen: make(chan struct{})}
		second.log = slog.New(slog.NewTextHandler(waiting, nil))
		f := &blockingFetcher{started: make(chan struct{}), release: make(chan struct{})}
		first.RegisterSource("test", f, nil)
		fetched := make(chan struct{}, 1)
		second.RegisterSource("test", FetcherFunc(func(ctx context.Context, src JobSource, sha, dst string) (Fetched, error) {
			fetched <- struct{}{}
			return DirFetcher.Fetch(ctx, src, sha, dst)
		}), nil)
		req := SyncRequest{Env: "prod", Source: JobSource{Kind: "test", Ref: twoWorkflows(t, "v1")}, CommitSHA: "sha1"}
		type outcome struct {
			res *SyncResult
			err error
		}
		run := func(s *Service) chan outcome {
			c := make(chan outcome, 1)
			go func() {
				res, err := s.Run(ctx, req)
				c <- outcome{res, err}
			}()
			return c
		}
		firstDone := run(first)
		<-f.started
		secondDone := run(second)
		select {
		case <-waiting.seen:
		case <-fetched:
			t.Fatal("the second worker started a sync the first was running")
		case <-time.After(time.Minute):
			t.Fatal("the second worker neither waited nor ran")
		}
		close(f.release)
		r1, r2 := <-firstDone, <-secondDone
		if r1.err != nil || r1.res.Sync.Status != store.SyncSucceeded || r1.res.Replayed {
			t.Fatalf("the running worker: %+v, %v", r1.res, r1.err)
		}
		if r2.err != nil || !r2.res.Replayed || r2.res.Sync.ID != r1.res.Sync.ID || len(r2.res.Deployments) != 2 {
			t.Fatalf("the waiting worker: %+v, %v; want the first's outcome replayed", r2.res, r2.err)
		}
		if len(fetched) != 0 {
			t.Fatal("the waiting worker fetched the commit")
		}
		if syncs, _ := first.Syncs(ctx, "prod", 10); len(syncs) != 1 {
			t.Fatalf("syncs = %+v, want the one run", syncs)
		}
		checkInvariants(t, first)
	})
}

// However many workers try to start one sync at the same moment, exactly
// one records a running attempt.
func TestClaimingASyncIsExclusive(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		if err := s.EnsureEnvironment(ctx, "prod"); err != nil {
			t.Fatal(err)
		}
		for round := range 10 {
			sha := fmt.Sprintf("sha%d", round)
			var wg sync.WaitGroup
			var mu sync.Mutex
			claimed := 0
			for range 6 {
				wg.Go(func() {
					now := s.now()
					_, ok, err := s.claim(ctx, store.Sync{ID: newID("sync_"), Env: "prod", CommitSHA: sha,
						Status: store.SyncRunning, RequestedAt: now, StartedAt: now})
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					defer mu.Unlock()
					if ok {
						claimed++
					}
				})
			}
			wg.Wait()
			if claimed != 1 {
				t.Fatalf("%s: %d workers claimed it, want 1", sha, claimed)
			}
		}
	})
}

// A sync whose runs keep killing their process fails for good, saying so.
func TestSyncThatKeepsKillingItsProcessFails(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		if err := s.EnsureEnvironment(ctx, "prod"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < s.maxCrashes; i++ {
			now := s.now()
			if err := s.db.InsertSync(ctx, store.Sync{ID: newID("sync_"), Env: "prod", CommitSHA: "boom", Status: store.SyncCrashed,
				Reason: store.ReasonHeartbeat, RequestedAt: now, StartedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := s.Run(ctx, SyncRequest{Env: "prod", Dir: twoWorkflows(t, "v1"), CommitSHA: "boom"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Sync.Status != store.SyncFailed || res.Sync.Reason != store.ReasonKilled || !hasLogRule(res.Sync.Log, RuleSyncKilled) ||
			!strings.Contains(res.Sync.Error, "3 times") {
			t.Fatalf("sync = %+v", res.Sync)
		}
		if len(liveIDs(t, s)) != 0 {
			t.Fatal("a given-up sync deployed")
		}
		// And it is final: running it again does nothing.
		if again, _ := s.Run(ctx, SyncRequest{Env: "prod", Dir: twoWorkflows(t, "v1"), CommitSHA: "boom"}); !again.Replayed {
			t.Fatal("a given-up sync ran again")
		}
	})
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// The same tree deploys the same bytes whatever the source: a git dev
// repository (its committed tree, not the working copy, nor its
// node_modules) and a plain copy.
func TestSameTreeSameDeploymentFromEverySource(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	s, _ := newEnv(t, storetest.SQLiteURL(t)).service(t)
	plain := twoWorkflows(t, "v1")
	res1 := mustSync(t, s, plain, "sha-plain")

	repoDir := twoWorkflows(t, "v1")
	git(t, repoDir, "init", "-q")
	git(t, repoDir, "add", "-A")
	git(t, repoDir, "commit", "-qm", "one")
	// A committed-tree sync never sees uncommitted edits or a local
	// node_modules (which would break the bundle if it were used).
	fa, _ := wf("a", tokens, "uncommitted")
	os.WriteFile(filepath.Join(repoDir, filepath.FromSlash(fa)), []byte("syntax error ("), 0o644)
	os.MkdirAll(filepath.Join(repoDir, "node_modules", "x"), 0o755)
	ref, err := DirRef(ctx, repoDir)
	if err != nil || ref != git(t, repoDir, "rev-parse", "HEAD") {
		t.Fatalf("DirRef = %q, %v", ref, err)
	}
	res2, err := s.Run(ctx, SyncRequest{Env: "dev2", Source: JobSource{Kind: "dev", Ref: repoDir}, CommitSHA: ref})
	if err != nil || res2.Sync.Status != store.SyncSucceeded {
		t.Fatalf("git sync: %+v, %v", res2, err)
	}
	if res2.Sync.CommitSHA != ref {
		t.Fatalf("deployment carries %s, HEAD is %s", res2.Sync.CommitSHA, ref)
	}
	for _, id := range []string{"a", "b"} {
		d1, d2 := depOf(t, res1, id), depOf(t, res2, id)
		if d1.BundleDigest != d2.BundleDigest || d1.SourceMapDigest != d2.SourceMapDigest {
			t.Errorf("workflow %s: plain copy %s/%s, git tree %s/%s", id, d1.BundleDigest, d1.SourceMapDigest, d2.BundleDigest, d2.SourceMapDigest)
		}
	}
	// A plain directory is named by its content: the same files, the same ref.
	r1, _ := DirRef(ctx, plain)
	r2, _ := DirRef(ctx, twoWorkflows(t, "v1"))
	r3, _ := DirRef(ctx, twoWorkflows(t, "v2"))
	if !strings.HasPrefix(r1, "dev-") || r1 != r2 || r1 == r3 {
		t.Fatalf("content refs: %s %s %s", r1, r2, r3)
	}
}

// Snapshots live in a private folder under the data directory, emptied
// at start (a killed process leaves its snapshot behind).
func TestSnapshotsArePrivateAndSwept(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	left := filepath.Join(data, "snapshots", "sync-123", "src")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, storetest.SQLiteURL(t))
	db, err := store.Open(context.Background(), e.url, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	base, _ := e.service(t)
	s, err := New(Options{Store: db, Artifacts: base.artifacts, Cipher: base.cipher, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("a leftover snapshot survived the start: %v", err)
	}
	info, err := os.Stat(s.snapRoot)
	if err != nil || info.Mode().Perm() != 0o700 || filepath.Dir(s.snapRoot) != data {
		t.Fatalf("snapshot root %s: %v, %v", s.snapRoot, info.Mode(), err)
	}
	res := mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
	if res.Sync.Status != store.SyncSucceeded {
		t.Fatal(res.Sync)
	}
	if rest, _ := os.ReadDir(s.snapRoot); len(rest) != 0 {
		t.Fatalf("snapshot not released: %v", rest)
	}
}

// Special files refuse the commit, located; links are left out;
// committed node_modules never reach the check.
func TestSnapshotRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newEnv(t, storetest.SQLiteURL(t)).service(t)
	dir := twoWorkflows(t, "v1")
	fifo := filepath.Join(dir, "kindeSrc", "pipe")
	if err := exec.Command("mkfifo", fifo).Run(); err != nil {
		t.Skip("mkfifo not available")
	}
	res, err := s.Run(ctx, SyncRequest{Env: "prod", Dir: dir, CommitSHA: "fifo"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sync.Status != store.SyncFailed || res.Sync.Reason != store.ReasonUnsyncable || !strings.Contains(res.Sync.Error, "kindeSrc/pipe") {
		t.Fatalf("sync = %+v", res.Sync)
	}
	if again, _ := s.Run(ctx, SyncRequest{Env: "prod", Dir: dir, CommitSHA: "fifo"}); !again.Replayed {
		t.Fatal("an unsyncable commit was tried again")
	}
}

// A commit whose job is stuck "running" in a dead process (it died before
// the sync started) is not swallowed when it is queued again: a takeover
// job runs it now, not when River's rescuer gets to it.
func TestStuckJobReenqueuedIsNotSwallowed(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t, svcOpts{realClock: true})
		dir := twoWorkflows(t, "v1")
		j := newJobs(t, s, FetcherFunc(DirFetcher))
		args := SyncArgs{Env: "prod", Source: JobSource{Kind: "test", Ref: dir}, CommitSHA: "sha1"}
		r1, err := j.EnqueueSync(ctx, args)
		if err != nil {
			t.Fatal(err)
		}
		q := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', '-1 hour', 'subsec') WHERE id = ?`
		if b.Name == "postgres" {
			q = `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 hour' WHERE id = $1`
		}
		if _, err := s.db.SQL().ExecContext(ctx, q, r1.JobID); err != nil {
			t.Fatal(err)
		}
		r2, err := j.EnqueueSync(ctx, args)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Duplicate || r2.JobID == r1.JobID {
			t.Fatalf("re-enqueue of a stuck commit: %+v (stuck job %d)", r2, r1.JobID)
		}
		startJobs(t, j)
		waitState(t, j, r2.JobID, "completed")
		if ids := liveIDs(t, s); ids["a"] == "" {
			t.Fatal("the takeover did not deploy")
		}
		// Queued again once more: the sync finished, so a duplicate.
		if r3, _ := j.EnqueueSync(ctx, args); !r3.Duplicate {
			t.Fatalf("a finished commit was queued again: %+v", r3)
		}
	})
}

// The job queue takes a dead sync over on its own, within the lease.
func TestJobsTakeOverDeadSyncs(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t, svcOpts{realClock: true})
		s.lease = 300 * time.Millisecond
		dir := twoWorkflows(t, "v1")
		// What a killed process leaves: a running sync whose heartbeat
		// stopped, with its request.
		job := []byte(`{"env":"prod","source":{"kind":"dir","ref":` + jsonString(dir) + `},"commitSha":"sha1","requestedAt":"2026-01-01T00:00:00Z"}`)
		if err := s.EnsureEnvironment(ctx, "prod"); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := s.db.InsertSync(ctx, store.Sync{ID: "sync_dead", Env: "prod", CommitSHA: "sha1", Status: store.SyncRunning,
			RequestedAt: old, StartedAt: old, Job: job}); err != nil {
			t.Fatal(err)
		}
		j := newJobs(t, s, FetcherFunc(DirFetcher))
		startJobs(t, j)
		deadline := time.Now().Add(time.Minute) // a bound against hangs, not a timing assertion
		for liveIDs(t, s)["a"] == "" {
			if time.Now().After(deadline) {
				syncs, _ := s.Syncs(ctx, "prod", 10)
				t.Fatalf("dead sync never taken over: %+v", syncs)
			}
			time.Sleep(20 * time.Millisecond)
		}
		y, _ := s.db.Sync(ctx, "sync_dead")
		if y.Status != store.SyncCrashed || y.Reason != store.ReasonHeartbeat {
			t.Fatalf("dead sync recorded as %s/%s", y.Status, y.Reason)
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The embedded default has one process: at its start, a sync still
// "running" was the previous process's, and is taken over at once — not
// after its lease.
func TestSoleProcessTakesOverAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, storetest.SQLiteURL(t))
	s, _ := e.service(t, svcOpts{realClock: true})
	s.lease = time.Hour // the lease alone would keep it for an hour
	dir := twoWorkflows(t, "v1")
	job := []byte(`{"env":"prod","source":{"kind":"dir","ref":` + jsonString(dir) + `},"commitSha":"sha1","requestedAt":"2026-01-01T00:00:00Z"}`)
	if err := s.EnsureEnvironment(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.db.InsertSync(ctx, store.Sync{ID: "sync_dead", Env: "prod", CommitSHA: "sha1", Status: store.SyncRunning,
		RequestedAt: now, StartedAt: now, HeartbeatAt: now, Job: job}); err != nil {
		t.Fatal(err)
	}
	j, err := NewJobs(ctx, JobsOptions{Store: s.db, Service: s, PollInterval: 50 * time.Millisecond, Logger: quietLogger(), SoleProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	startJobs(t, j)
	deadline := time.Now().Add(time.Minute) // a bound against hangs, not a timing assertion
	for liveIDs(t, s)["a"] == "" {
		if time.Now().After(deadline) {
			t.Fatal("the previous process's sync was not taken over at start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if y, _ := s.db.Sync(ctx, "sync_dead"); y.Status != store.SyncCrashed {
		t.Fatalf("previous process's sync is %s", y.Status)
	}
}

// A sync job a dead process claimed before its sync started (no sync
// record, the River row "running") is taken over by the queue's own
// loop, not left for River's rescuer.
func TestJobsTakeOverJobsClaimedByADeadProcess(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t, svcOpts{realClock: true})
		s.lease = 300 * time.Millisecond
		dir := twoWorkflows(t, "v1")
		j := newJobs(t, s, FetcherFunc(DirFetcher))
		r, err := j.EnqueueSync(ctx, SyncArgs{Env: "prod", Source: JobSource{Kind: "test", Ref: dir}, CommitSHA: "sha1"})
		if err != nil {
			t.Fatal(err)
		}
		q := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', '-1 hour', 'subsec') WHERE id = ?`
		if b.Name == "postgres" {
			q = `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 hour' WHERE id = $1`
		}
		if _, err := s.db.SQL().ExecContext(ctx, q, r.JobID); err != nil {
			t.Fatal(err)
		}
		startJobs(t, j)
		deadline := time.Now().Add(time.Minute) // a bound against hangs, not a timing assertion
		for liveIDs(t, s)["a"] == "" {
			if time.Now().After(deadline) {
				t.Fatal("the job claimed by a dead process was not taken over")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The takeover is a new job: the dead process's row is left to
		// River's rescuer, which (its attempt being an hour old) may also
		// have reached it by now on a slow machine.
		if st, _, _ := j.JobState(ctx, r.JobID); st != "running" && st != "retryable" {
			t.Fatalf("the dead process's job is %s; the takeover is a new job", st)
		}
	})
}
