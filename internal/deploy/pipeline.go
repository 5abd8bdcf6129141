package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/store"
)

// The sync pipeline, the same for every source (a GitHub push, pull
// request or re-run, the dev repository, any later one):
//
//	fetch → snapshot → install packages → check and bundle → store → go live → report
//
// Each step is a function of the snapshot: a private directory under the
// data directory that the source's Fetcher fills and nothing else reads.
// A source contributes only its Fetcher (and, optionally, a Reporter);
// everything else is here.

// RuleSyncKilled is the rule of the diagnostic a sync gets when its runs
// died with their process too many times: it is not retried.
const RuleSyncKilled = diag.RuleSyncKilled

// Reporter tells a source's people how a sync goes (GitHub check runs). It
// is called with a context that outlives a cancelled job.
type Reporter interface {
	// SyncStarted: the sync record exists and the pipeline starts.
	SyncStarted(ctx context.Context, req SyncRequest, sync SyncRecord) error
	// SyncFinished: the outcome, including a sync that had already
	// finished (res.Replayed) and one that will be retried
	// (store.SyncInterrupted).
	SyncFinished(ctx context.Context, req SyncRequest, res *SyncResult) error
}

// RegisterSource makes a source kind available to syncs: its Fetcher and
// its Reporter (nil: syncs of that kind report nothing). Register before
// the first sync; the registry is not guarded for later changes.
func (s *Service) RegisterSource(kind string, f Fetcher, r Reporter) {
	s.fetchers[kind] = f
	if r != nil {
		s.reporters[kind] = r
	}
}

// Run is the pipeline: it syncs req's commit into req.Env, once. A sync
// is (Env, CommitSHA, Resync): when an earlier run of it finished, Run
// reports that result again (Replayed) and changes nothing; while another
// worker runs it, Run waits for that run's outcome. The returned
// error is for a sync that could not finish and should be retried (a
// database, artifact store, registry or fetch failure); the sync record
// says so too (store.SyncInterrupted). A repository with errors is not an
// error here: the result's status is store.SyncFailed with every
// diagnostic in the log. No live pointer moves unless the whole sync
// succeeded, nor past a flip a person made after the sync was requested.
func (s *Service) Run(ctx context.Context, req SyncRequest) (*SyncResult, error) {
	req, err := s.normalise(ctx, req)
	if err != nil {
		return nil, err
	}
	rep := req.Reporter
	if rep == nil {
		rep = s.reporters[req.Source.Kind]
	}
	job, _ := json.Marshal(req.args())
	rec := store.Sync{
		ID: newID("sync_"), Env: req.Env, CommitSHA: req.CommitSHA, Source: req.Source.Kind + ":" + req.Source.Ref,
		Resync: req.Resync, Status: store.SyncRunning, RequestedAt: req.RequestedAt, Job: job,
	}
	for waiting := false; ; waiting = true {
		rec.StartedAt = s.now()
		prior, claimed, err := s.claim(ctx, rec)
		if err != nil {
			return nil, fmt.Errorf("deploy: start sync of %s@%s: %w", req.Env, short(req.CommitSHA), err)
		}
		if claimed {
			break
		}
		if done := finishedOf(prior); done != nil {
			res, err := s.replay(ctx, *done)
			if err != nil {
				return nil, err
			}
			s.report(ctx, rep, req, res)
			return res, nil
		}
		if crashes := s.crashes(prior); crashes >= s.maxCrashes {
			return s.killed(ctx, rep, req, rec, crashes)
		}
		// Another worker runs this very sync (River's rescue and a
		// takeover, a redelivery): its outcome is this run's too.
		if !waiting {
			s.log.Info("another worker is running this sync; waiting for its outcome", "env", req.Env, "commit", short(req.CommitSHA))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("deploy: wait for the sync of %s@%s: %w", req.Env, short(req.CommitSHA), ctx.Err())
		case <-time.After(s.lease / 5):
		}
	}
	if req.takeover != "" {
		s.log.Info("taking over a sync whose process died", "sync_id", rec.ID, "dead", req.takeover, "env", req.Env, "commit", short(req.CommitSHA))
	}
	// The heartbeat is the sync's lease: when it stops (the process died)
	// another worker takes the sync over; when the sync was taken over
	// meanwhile, this run stops and records nothing.
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := s.heartbeat(rctx, rec.ID, cancel)
	defer stop()

	if rep != nil {
		if err := rep.SyncStarted(rctx, req, rec); err != nil {
			return s.interrupt(ctx, rep, req, &SyncResult{Sync: rec}, fmt.Errorf("report start: %w", err))
		}
	}
	res, err := s.pipeline(rctx, req, rec)
	stop() // a beat after the sync ended finds it not running: that is no loss
	if cause := context.Cause(rctx); err != nil && errors.Is(cause, store.ErrNotRunning) {
		err = cause
	}
	if err != nil {
		return s.interrupt(ctx, rep, req, res, err)
	}
	s.invalidate(req.Env)
	s.observe(res.Sync.Status)
	s.report(ctx, rep, req, res)
	return res, nil
}

// normalise checks a request and fills its defaults.
func (s *Service) normalise(ctx context.Context, req SyncRequest) (SyncRequest, error) {
	if req.Dir != "" && req.Source.Kind == "" {
		req.Source = JobSource{Kind: "dir", Ref: req.Dir}
	}
	if err := s.EnsureEnvironment(ctx, req.Env); err != nil {
		return req, err
	}
	if req.CommitSHA == "" || len(req.CommitSHA) > 100 {
		return req, fmt.Errorf("a sync needs a commit id of 1-100 characters: %w", ErrInvalid)
	}
	if _, ok := s.fetchers[req.Source.Kind]; !ok {
		return req, fmt.Errorf("no source of kind %q: %w", req.Source.Kind, ErrInvalid)
	}
	if req.RequestedAt.IsZero() {
		req.RequestedAt = s.now()
	}
	req.RequestedAt = req.RequestedAt.UTC().Truncate(time.Microsecond)
	if req.Actor == "" {
		req.Actor = "sync"
	}
	return req, nil
}

// finishedOf is the attempt that finished, if one did.
func finishedOf(prior []store.Sync) *store.Sync {
	for i := range prior {
		if prior[i].Finished() && prior[i].Reason != store.ReasonDuplicate {
			return &prior[i]
		}
	}
	return nil
}

// claim records rec as the sync's running attempt unless an earlier one
// finished, the crash limit is reached or another run holds a live lease;
// prior is what it read. Reading and inserting are one transaction,
// serialised per sync, so of two workers handed one sync at once exactly
// one runs it.
func (s *Service) claim(ctx context.Context, rec store.Sync) (prior []store.Sync, claimed bool, err error) {
	err = s.db.InTx(ctx, func(q store.Q) error {
		if err := q.LockSync(ctx, rec.Env, rec.CommitSHA, rec.Resync); err != nil {
			return err
		}
		if prior, err = q.SyncsOf(ctx, rec.Env, rec.CommitSHA, rec.Resync); err != nil {
			return err
		}
		if finishedOf(prior) != nil || s.crashes(prior) >= s.maxCrashes || s.running(prior) {
			return nil
		}
		claimed = true
		return q.InsertSync(ctx, rec)
	})
	return prior, claimed && err == nil, err
}

// running reports whether one of the attempts holds a live lease.
func (s *Service) running(prior []store.Sync) bool {
	cutoff := s.now().Add(-s.lease)
	for _, y := range prior {
		if y.Status == store.SyncRunning && !y.HeartbeatAt.Before(cutoff) {
			return true
		}
	}
	return false
}

// crashes counts the attempts that died with their process: marked
// crashed, or still "running" with a stopped heartbeat.
func (s *Service) crashes(prior []store.Sync) int {
	n := 0
	cutoff := s.now().Add(-s.lease)
	for _, y := range prior {
		if y.Status == store.SyncCrashed || y.Status == store.SyncRunning && y.HeartbeatAt.Before(cutoff) {
			n++
		}
	}
	return n
}

// replay is the result of a sync that already finished.
func (s *Service) replay(ctx context.Context, y store.Sync) (*SyncResult, error) {
	res := &SyncResult{Sync: y, Replayed: true}
	deps, err := s.db.DeploymentsOfSync(ctx, y.ID)
	if err != nil {
		return nil, err
	}
	res.Deployments = deps
	return res, nil
}

// killed ends, without running it, a sync whose runs keep killing their
// process: a repository that crashes the service must not do so forever.
func (s *Service) killed(ctx context.Context, rep Reporter, req SyncRequest, rec store.Sync, crashes int) (*SyncResult, error) {
	msg := fmt.Sprintf("this commit's sync stopped the process running it %d times (a crash, an out-of-memory kill or a restart each time); it is not tried again. Push a fix, or sync the commit again on purpose, once the cause is known", crashes)
	rec.Status, rec.Reason, rec.Error, rec.FinishedAt = store.SyncFailed, store.ReasonKilled, msg, s.now()
	rec.Log = []store.SyncLogEntry{entry(&project.Workflow{}, diag.New(RuleSyncKilled, project.KindeJSON, 1, 1, "%s", msg))}
	if err := s.db.InsertSync(ctx, rec); err != nil {
		return nil, fmt.Errorf("deploy: record killed sync of %s: %w", req.Env, err)
	}
	s.log.Error("sync keeps killing its process; given up", "env", req.Env, "commit", short(req.CommitSHA), "crashes", crashes)
	s.observe(store.SyncFailed)
	res := &SyncResult{Sync: rec}
	s.report(ctx, rep, req, res)
	return res, nil
}

// interrupt records a sync that could not finish (its job retries).
func (s *Service) interrupt(ctx context.Context, rep Reporter, req SyncRequest, res *SyncResult, cause error) (*SyncResult, error) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if errors.Is(cause, store.ErrNotRunning) {
		// Taken over: the other worker owns the sync now; this run's own
		// deployments, if it made any, never went live.
		if err := s.db.FailProcessing(fctx, res.Sync.ID); err != nil {
			s.log.Error("fail deployments of a taken-over sync", "sync_id", res.Sync.ID, "err", err)
		}
		s.log.Warn("sync taken over by another worker; this run stops", "sync_id", res.Sync.ID, "env", req.Env)
		return nil, fmt.Errorf("deploy: sync %s of %s: %w", res.Sync.ID, req.Env, cause)
	}
	log := append(res.Sync.Log, store.SyncLogEntry{Severity: diag.Error, Message: "the sync could not finish and will be retried: " + cause.Error()})
	err := s.db.InTx(fctx, func(q store.Q) error {
		if err := q.FailProcessing(fctx, res.Sync.ID); err != nil {
			return err
		}
		return q.EndSync(fctx, res.Sync.ID, store.SyncInterrupted, store.ReasonError, log, cause.Error(), s.now())
	})
	if err != nil {
		s.log.Error("record interrupted sync", "sync_id", res.Sync.ID, "env", req.Env, "err", err)
	}
	res.Sync.Status, res.Sync.Reason, res.Sync.Log, res.Sync.Error = store.SyncInterrupted, store.ReasonError, log, cause.Error()
	s.observe("error")
	s.report(fctx, rep, req, res)
	return nil, fmt.Errorf("deploy: sync %s of %s at %s: %w", res.Sync.ID, req.Env, short(req.CommitSHA), cause)
}

// report calls the reporter; a failure to report is logged, never undoes
// the sync (a retry reports again).
func (s *Service) report(ctx context.Context, rep Reporter, req SyncRequest, res *SyncResult) {
	if rep == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := rep.SyncFinished(rctx, req, res); err != nil {
		s.log.Warn("report sync", "sync_id", res.Sync.ID, "env", req.Env, "err", err)
		res.ReportErr = err
	}
}

// heartbeat renews the sync's lease until stop is called; losing the
// lease (the sync was taken over) cancels the run.
func (s *Service) heartbeat(ctx context.Context, id string, lost context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(s.lease / 5)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := s.db.HeartbeatSync(ctx, id, s.now())
			if errors.Is(err, store.ErrNotRunning) {
				lost(store.ErrNotRunning)
				return
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("sync heartbeat", "sync_id", id, "err", err)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// snapshot is one commit's files, fetched and cleaned.
type snapshot struct {
	dir     string // the repository root
	skipped int
	release func()
}

// takeSnapshot fetches the commit into a fresh private directory under
// the snapshot root and cleans it: no node_modules, no special files.
func (s *Service) takeSnapshot(ctx context.Context, src JobSource, sha string) (*snapshot, error) {
	f, ok := s.fetchers[src.Kind]
	if !ok {
		return nil, fmt.Errorf("no source of kind %q", src.Kind)
	}
	if err := os.MkdirAll(s.snapRoot, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot directory: %w", err)
	}
	tmp, err := os.MkdirTemp(s.snapRoot, "sync-")
	if err != nil {
		return nil, fmt.Errorf("snapshot directory: %w", err)
	}
	snap := &snapshot{dir: filepath.Join(tmp, "src"), release: func() { os.RemoveAll(tmp) }}
	ok = false
	defer func() {
		if !ok {
			snap.release()
		}
	}()
	if err := os.Mkdir(snap.dir, 0o700); err != nil {
		return nil, err
	}
	fetched, err := f.Fetch(ctx, src, sha, snap.dir)
	if err != nil {
		return nil, err
	}
	if err := cleanSnapshot(snap.dir); err != nil {
		return nil, err
	}
	snap.skipped = fetched.Skipped
	ok = true
	return snap, nil
}

// install puts the packages the workflows import into the snapshot's own
// node_modules, from the configured registry, allow-listed and verified.
// It returns kinde.json's rootDir and what the installer found.
func (s *Service) install(ctx context.Context, dir string) (rootDir string, ds []diag.Diagnostic, err error) {
	proj, _, err := project.Load(dir)
	if err != nil {
		return "", nil, fmt.Errorf("read snapshot: %w", err)
	}
	if proj.Config == nil {
		return "", nil, nil // project.Check says why
	}
	if len(proj.Files) == 0 {
		return proj.Config.RootDir, nil, nil
	}
	opts := s.npm
	opts.NPM, opts.Entries = proj.Config.NPM, proj.Files
	_, ds, err = s.installFn(ctx, dir, filepath.Join(dir, "node_modules"), opts)
	if err != nil {
		return proj.Config.RootDir, nil, fmt.Errorf("install npm packages: %w", err)
	}
	return proj.Config.RootDir, ds, nil
}

// pipeline runs the steps after the sync record exists.
func (s *Service) pipeline(ctx context.Context, req SyncRequest, rec store.Sync) (*SyncResult, error) {
	res := &SyncResult{Sync: rec}
	snap, err := s.takeSnapshot(ctx, req.Source, req.CommitSHA)
	var bad *ContentError
	switch {
	case errors.As(err, &bad):
		msg := "the commit cannot be synced: " + strings.TrimPrefix(bad.Error(), "the commit cannot be synced: ")
		return res, s.endEarly(ctx, res, store.SyncFailed, store.ReasonUnsyncable, msg)
	case errors.Is(err, errChanged):
		return res, s.endEarly(ctx, res, store.SyncSkipped, store.ReasonChanged, "the directory changed while it was copied; its new state syncs next")
	case err != nil:
		return res, fmt.Errorf("fetch %s@%s: %w", req.Source.Ref, short(req.CommitSHA), err)
	}
	defer snap.release()
	res.Skipped = snap.skipped
	rootDir, npmDiags, err := s.install(ctx, snap.dir)
	if err != nil {
		return res, err
	}
	res.RootDir = rootDir
	if req.Changed != nil && !anyRelevant(req.Changed, rootDir) {
		return res, s.endEarly(ctx, res, store.SyncSkipped, store.ReasonNothing,
			"no file under the rootDir, kinde.json or the package files changed; nothing was synced")
	}
	report, err := s.check(ctx, snap.dir)
	if err != nil {
		return res, fmt.Errorf("read source: %w", err)
	}
	report.Diagnostics = mergeDiags(report.Diagnostics, npmDiags)
	return s.deploy(ctx, req, res, report)
}

// endEarly finishes a sync that stops before checking: one log line says why.
func (s *Service) endEarly(ctx context.Context, res *SyncResult, status, reason, msg string) error {
	sev := diag.Error
	if status == store.SyncSkipped {
		sev = "info"
	}
	log := []store.SyncLogEntry{{Severity: sev, Message: msg}}
	if err := s.db.EndSync(ctx, res.Sync.ID, status, reason, log, msg, s.now()); err != nil {
		return err
	}
	res.Sync.Status, res.Sync.Reason, res.Sync.Log, res.Sync.Error, res.Sync.FinishedAt = status, reason, log, msg, s.now()
	return nil
}

// CheckRequest is a commit to check without deploying it (a pull request).
type CheckRequest struct {
	Source    JobSource
	CommitSHA string
}

// CheckResult is what checking a commit found.
type CheckResult struct {
	Report  *project.Report // diagnostics include the package installer's
	RootDir string
	Skipped int
}

// Check runs the pipeline's first steps — fetch, snapshot, install
// packages, check and bundle — and stores nothing, moves nothing. A
// commit that cannot be read is a *ContentError.
func (s *Service) Check(ctx context.Context, req CheckRequest) (*CheckResult, error) {
	if req.CommitSHA == "" {
		return nil, fmt.Errorf("a check needs a commit id: %w", ErrInvalid)
	}
	snap, err := s.takeSnapshot(ctx, req.Source, req.CommitSHA)
	if err != nil {
		return nil, err
	}
	defer snap.release()
	rootDir, npmDiags, err := s.install(ctx, snap.dir)
	if err != nil {
		return nil, err
	}
	report, err := s.check(ctx, snap.dir)
	if err != nil {
		return nil, fmt.Errorf("read source: %w", err)
	}
	report.Diagnostics = mergeDiags(report.Diagnostics, npmDiags)
	return &CheckResult{Report: report, RootDir: rootDir, Skipped: snap.skipped}, nil
}

// ReadConfig reads a commit's kinde.json without checking or building
// anything: a pull request is judged by its base branch's settings (the
// behaviour diff policy), never by what its own head says. A nil Config
// with diagnostics: kinde.json is missing or unusable.
func (s *Service) ReadConfig(ctx context.Context, src JobSource, sha string) (*project.Config, []diag.Diagnostic, error) {
	if sha == "" {
		return nil, nil, fmt.Errorf("reading a configuration needs a commit id: %w", ErrInvalid)
	}
	snap, err := s.takeSnapshot(ctx, src, sha)
	if err != nil {
		return nil, nil, err
	}
	defer snap.release()
	proj, ds, err := project.Load(snap.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot: %w", err)
	}
	return proj.Config, ds, nil
}

func mergeDiags(a, b []diag.Diagnostic) []diag.Diagnostic {
	if len(b) == 0 {
		return a
	}
	seen := map[diag.Diagnostic]bool{}
	var out []diag.Diagnostic
	for _, d := range append(append([]diag.Diagnostic(nil), a...), b...) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	diag.Sort(out)
	return out
}

func anyRelevant(paths []string, rootDir string) bool {
	for _, p := range paths {
		if relevant(p, rootDir) {
			return true
		}
	}
	return false
}

// relevant reports whether a changed path can change what a sync deploys:
// kinde.json, the package files, or anything under rootDir.
func relevant(p, rootDir string) bool {
	switch p {
	case project.KindeJSON, "package.json", "package-lock.json":
		return true
	}
	if rootDir == "" {
		return true // kinde.json unreadable: sync, and let it say why
	}
	root := path.Clean(rootDir)
	return root == "." || p == root || strings.HasPrefix(p, root+"/")
}

// TakeOver finds syncs whose process died (their heartbeat is older than
// the lease), queues each again through enqueue (which must be idempotent
// per takeover: the args' Takeover names the dead sync), then marks them
// crashed. Every replica calls it every few seconds (Jobs does).
func (s *Service) TakeOver(ctx context.Context, enqueue func(context.Context, SyncArgs) error) (int, error) {
	return s.takeOver(ctx, s.now().Add(-s.lease), enqueue)
}

// takeOver takes over the running syncs whose heartbeat is older than cutoff.
func (s *Service) takeOver(ctx context.Context, cutoff time.Time, enqueue func(context.Context, SyncArgs) error) (int, error) {
	stale, err := s.db.StaleSyncs(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, y := range stale {
		var args SyncArgs
		if err := json.Unmarshal(y.Job, &args); err != nil || args.Env == "" {
			// Recorded before syncs kept their request: close it.
			args = SyncArgs{}
		} else {
			args.Takeover = y.ID
			if err := enqueue(ctx, args); err != nil {
				return n, fmt.Errorf("deploy: queue the takeover of sync %s: %w", y.ID, err)
			}
		}
		ok, err := s.db.MarkCrashed(ctx, y.ID, cutoff, s.now())
		if err != nil {
			return n, err
		}
		if ok {
			n++
			s.log.Warn("sync's process died; taken over", "sync_id", y.ID, "env", y.Env, "commit", short(y.CommitSHA))
		}
	}
	return n, nil
}

// syncAlive reports whether a run of the sync holds a live lease.
func (s *Service) syncAlive(ctx context.Context, a SyncArgs) (bool, error) {
	prior, err := s.db.SyncsOf(ctx, a.Env, a.CommitSHA, a.Resync)
	return err == nil && s.running(prior), err
}

// RecordCheckRun remembers a check run a source's Reporter made for a sync.
func (s *Service) RecordCheckRun(ctx context.Context, syncID, name string, checkRunID int64) error {
	return s.db.PutCheckRun(ctx, syncID, name, checkRunID)
}

// CheckRuns are the check runs recorded for a sync, by name.
func (s *Service) CheckRuns(ctx context.Context, syncID string) (map[string]int64, error) {
	return s.db.CheckRuns(ctx, syncID)
}
