package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/store"
)

// SyncRequest is one commit to deploy to one environment.
type SyncRequest struct {
	Env string
	// Source is where the commit comes from: a kind registered with
	// RegisterSource ("dir" and "dev" always are) and its reference.
	Source JobSource
	// Dir is shorthand for Source{Kind: "dir", Ref: Dir}: a local
	// directory, copied into the snapshot without node_modules.
	Dir       string
	CommitSHA string
	// Resync, when set, makes this a new sync of a commit that was synced
	// before (a re-run); a sync is (Env, CommitSHA, Resync).
	Resync string
	// Changed, when not nil, lists the paths the commit changed: the sync
	// is skipped when none of them can change what it deploys.
	Changed []string
	// RequestedAt orders syncs of one environment (when the push arrived);
	// default now. A sync never moves pointers back past a newer one that
	// already succeeded, nor past a flip a person made after this time.
	RequestedAt time.Time
	Actor       string // default "sync"
	// Reporter overrides the source kind's registered Reporter.
	Reporter Reporter

	takeover string // the dead sync this run takes over
}

// args is the request as the durable job that runs it again.
func (r SyncRequest) args() SyncArgs {
	return SyncArgs{Env: r.Env, Source: r.Source, CommitSHA: r.CommitSHA, Resync: r.Resync,
		RequestedAt: r.RequestedAt, Changed: r.Changed}
}

// SyncResult is what a sync did.
type SyncResult struct {
	Sync        SyncRecord
	Deployments []Deployment // created by this sync, in workflow file order
	// Replayed: the sync had finished before; nothing was done again.
	Replayed bool
	RootDir  string // kinde.json's rootDir, when read
	Skipped  int    // links and other entries the snapshot left out
	// ReportErr is why the Reporter failed, if it did (the sync stands).
	ReportErr error
}

// Sync runs the pipeline (see Run).
func (s *Service) Sync(ctx context.Context, req SyncRequest) (*SyncResult, error) {
	return s.Run(ctx, req)
}

// observe counts a finished sync's outcome: "succeeded", "failed" (the
// repository has errors), "skipped" or "error" (the sync could not run).
func (s *Service) observe(outcome string) {
	n, _ := s.syncOutcomes.LoadOrStore(outcome, new(atomic.Uint64))
	n.(*atomic.Uint64).Add(1)
}

// SyncOutcomes counts the syncs this process finished, by outcome (metrics).
func (s *Service) SyncOutcomes() map[string]uint64 {
	out := map[string]uint64{}
	s.syncOutcomes.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}

// planned is one valid workflow on its way to a deployment.
type planned struct {
	wf  *project.Workflow
	dep store.Deployment
}

// errDuplicate: another run of the same sync finished first.
var errDuplicate = errors.New("another run of this sync finished first")

// deploy stores a checked snapshot's bundles and records its deployments,
// making them live when that is due.
func (s *Service) deploy(ctx context.Context, req SyncRequest, res *SyncResult, report *project.Report) (*SyncResult, error) {
	rec := res.Sync
	env, err := s.db.Environment(ctx, req.Env)
	if err != nil {
		return res, err
	}
	// A workflow whose settings could not be read is still known by its
	// file: name it in the log and record its Failed deployment.
	known, err := s.db.Workflows(ctx, req.Env, false)
	if err != nil {
		return res, err
	}
	byFile := map[string]string{}
	for _, w := range known {
		byFile[w.File] = w.ID
	}
	for _, w := range report.Workflows {
		if w.Settings.ID == "" && byFile[w.File] != "" {
			w.Settings.ID = byFile[w.File]
		}
	}
	log := syncLog(report)
	res.Sync.Log = log

	// Triggers live for workflows this commit does not contain (kept, as
	// the docs say, until deleted) block a new workflow on the same trigger.
	inCommit := map[string]bool{}
	for _, w := range report.Workflows {
		if w.Settings.ID != "" {
			inCommit[w.Settings.ID] = true
		}
	}
	if report.OK() && !env.PreviewMode {
		for _, w := range report.Workflows {
			owner, err := s.db.LiveWorkflowForTrigger(ctx, req.Env, w.Settings.Trigger)
			if err != nil {
				return res, err
			}
			if owner != "" && owner != w.Settings.ID && !inCommit[owner] {
				d := project.LiveElsewhere(w.File, w.Settings.Trigger, owner)
				report.Diagnostics = append(report.Diagnostics, d)
				log = append(log, entry(w, d))
			}
		}
		res.Sync.Log = log
	}

	if !report.OK() || diag.HasErrors(report.Diagnostics) {
		return res, s.failSync(ctx, req, res, report)
	}

	// 1. Record the deployments as Processing (workflows appear or reappear).
	now := s.now()
	plan := make([]planned, 0, len(report.Workflows))
	for _, w := range report.Workflows {
		settings, err := json.Marshal(w.Settings)
		if err != nil {
			return res, fmt.Errorf("encode settings of %s: %w", w.File, err)
		}
		plan = append(plan, planned{wf: w, dep: store.Deployment{
			ID: newID("dep_"), Env: req.Env, WorkflowID: w.Settings.ID, Status: store.Processing,
			Settings: settings, CommitSHA: req.CommitSHA, SyncID: rec.ID, File: w.File, CreatedAt: now,
		}})
	}
	err = s.db.InTx(ctx, func(q store.Q) error {
		// Only while this run still owns the sync (renewing its lease).
		if err := q.HeartbeatSync(ctx, rec.ID, s.now()); err != nil {
			return err
		}
		for _, p := range plan {
			if err := q.UpsertWorkflow(ctx, store.Workflow{Env: req.Env, ID: p.dep.WorkflowID,
				Trigger: p.wf.Settings.Trigger, Name: p.wf.Settings.Name, File: p.wf.File}); err != nil {
				return err
			}
			if err := q.InsertDeployment(ctx, p.dep); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("record deployments: %w", err)
	}
	for _, p := range plan {
		res.Deployments = append(res.Deployments, p.dep)
	}

	// 2. Store the artifacts (content-addressed, so retries are harmless).
	for i := range plan {
		p := &plan[i]
		if err := s.step("artifact-put"); err != nil {
			return res, err
		}
		if p.dep.BundleDigest, err = s.artifacts.Put(ctx, p.wf.Bundle.Code); err != nil {
			return res, fmt.Errorf("store bundle of %s: %w", p.wf.File, err)
		}
		if p.dep.SourceMapDigest, err = s.artifacts.Put(ctx, p.wf.Bundle.SourceMap); err != nil {
			return res, fmt.Errorf("store source map of %s: %w", p.wf.File, err)
		}
		if err := s.verifyArtifacts(ctx, p.dep); err != nil {
			return res, err
		}
	}

	// 3. One transaction: digests, statuses, live pointers, the sync's outcome.
	var final []store.Deployment
	err = s.db.InTx(ctx, func(q store.Q) error {
		final = final[:0]
		// The version bump first: it serialises pointer moves per environment.
		if err := q.BumpLiveVersion(ctx, req.Env); err != nil {
			return err
		}
		// Exactly once: another run of this very sync (a takeover, a
		// redelivery on another replica) may have finished meanwhile.
		others, err := q.SyncsOf(ctx, req.Env, req.CommitSHA, req.Resync)
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.ID != rec.ID && o.Finished() && o.Reason != store.ReasonDuplicate {
				return errDuplicate
			}
		}
		stale, err := q.NewerSucceededSync(ctx, req.Env, req.RequestedAt)
		if err != nil {
			return err
		}
		// A person's make-live, rollback, deactivate or delete made after
		// this commit was pushed wins over it.
		ids := make([]string, 0, len(plan))
		for _, p := range plan {
			ids = append(ids, p.dep.WorkflowID)
		}
		manual, err := q.ManualFlipSince(ctx, req.Env, ids, req.RequestedAt)
		if err != nil {
			return err
		}
		autoLive := !env.PreviewMode && !stale && !manual
		for _, p := range plan {
			if err := q.SetDeploymentArtifacts(ctx, p.dep.ID, p.dep.BundleDigest, p.dep.SourceMapDigest); err != nil {
				return err
			}
		}
		current := map[string]string{} // workflow id -> live deployment id
		for _, p := range plan {
			cur, err := q.LivePointer(ctx, req.Env, p.dep.WorkflowID)
			if err != nil {
				return err
			}
			current[p.dep.WorkflowID] = cur
			if autoLive {
				// Clear first so two workflows may swap triggers in one commit.
				if err := q.ClearLive(ctx, req.Env, p.dep.WorkflowID); err != nil {
					return err
				}
			}
		}
		for i, p := range plan {
			if err := s.step("flip"); err != nil {
				return err
			}
			st := store.Deployed
			switch {
			case autoLive:
				if err := s.flipTx(ctx, q, p.dep, p.wf.Settings.Trigger, current[p.dep.WorkflowID], store.ActionAutoLive,
					Actor{Name: req.Actor, Reason: "commit " + short(req.CommitSHA)}); err != nil {
					return err
				}
				st = store.Live
			default:
				if current[p.dep.WorkflowID] == "" {
					st = store.Draft
				}
				if err := q.SetDeploymentStatus(ctx, p.dep.ID, st); err != nil {
					return err
				}
			}
			p.dep.Status = st
			final = append(final, p.dep)
			msg := fmt.Sprintf("deployment %s: %s", p.dep.ID, st)
			switch {
			case env.PreviewMode:
			case stale:
				msg += " (not made live: a newer commit already synced)"
			case manual:
				msg += " (not made live: a deployment was made live, rolled back or deactivated by hand after this commit was pushed)"
			}
			log = append(log, store.SyncLogEntry{WorkflowID: p.dep.WorkflowID, File: plan[i].wf.File,
				Severity: "info", Message: msg, Deployment: p.dep.ID})
		}
		if err := s.step("finish"); err != nil {
			return err
		}
		return q.EndSync(ctx, rec.ID, store.SyncSucceeded, "", log, "", s.now())
	})
	if errors.Is(err, errDuplicate) {
		return s.duplicate(ctx, res)
	}
	if err != nil {
		return res, fmt.Errorf("make deployments live: %w", err)
	}
	res.Deployments = final
	res.Sync.Log = log
	res.Sync.Status = store.SyncSucceeded
	res.Sync.FinishedAt = s.now()
	return res, nil
}

// failSync records a sync whose code has errors: its log, and a Failed
// deployment for each known workflow whose own code failed. Nothing else
// changes.
func (s *Service) failSync(ctx context.Context, req SyncRequest, res *SyncResult, report *project.Report) error {
	now := s.now()
	err := s.db.InTx(ctx, func(q store.Q) error {
		for _, w := range report.Workflows {
			if w.Valid() || w.Settings.ID == "" {
				continue
			}
			known, err := q.Workflow(ctx, req.Env, w.Settings.ID)
			if errors.Is(err, store.ErrNotFound) || err == nil && known.Deleted {
				continue // a new workflow only appears once it is valid
			}
			if err != nil {
				return err
			}
			settings, _ := json.Marshal(w.Settings)
			d := store.Deployment{ID: newID("dep_"), Env: req.Env, WorkflowID: w.Settings.ID, Status: store.Failed,
				Settings: settings, CommitSHA: req.CommitSHA, SyncID: res.Sync.ID, File: w.File, CreatedAt: now}
			if err := q.InsertDeployment(ctx, d); err != nil {
				return err
			}
			res.Deployments = append(res.Deployments, d)
		}
		errs, _ := diag.Count(report.Diagnostics)
		return q.EndSync(ctx, res.Sync.ID, store.SyncFailed, store.ReasonRepository, res.Sync.Log,
			fmt.Sprintf("%d error(s) in the repository; nothing was deployed", errs), s.now())
	})
	if err != nil {
		return fmt.Errorf("record failed sync: %w", err)
	}
	res.Sync.Status, res.Sync.Reason = store.SyncFailed, store.ReasonRepository
	res.Sync.FinishedAt = s.now()
	errs, _ := diag.Count(report.Diagnostics)
	res.Sync.Error = fmt.Sprintf("%d error(s) in the repository; nothing was deployed", errs)
	return nil
}

// duplicate ends a run whose sync another run finished first: this one
// changes nothing and answers with the other's result.
func (s *Service) duplicate(ctx context.Context, res *SyncResult) (*SyncResult, error) {
	err := s.db.InTx(ctx, func(q store.Q) error {
		if err := q.FailProcessing(ctx, res.Sync.ID); err != nil {
			return err
		}
		return q.EndSync(ctx, res.Sync.ID, store.SyncSkipped, store.ReasonDuplicate, nil, errDuplicate.Error(), s.now())
	})
	if err != nil {
		return res, err
	}
	prior, err := s.db.SyncsOf(ctx, res.Sync.Env, res.Sync.CommitSHA, res.Sync.Resync)
	if err != nil {
		return res, err
	}
	if done := finishedOf(prior); done != nil {
		return s.replay(ctx, *done)
	}
	return res, errDuplicate
}

// syncLog turns a report's diagnostics into log entries, each attributed
// to its workflow when it concerns one.
func syncLog(r *project.Report) []store.SyncLogEntry {
	var out []store.SyncLogEntry
	seen := map[diag.Diagnostic]bool{}
	for _, w := range r.Workflows {
		for _, d := range w.Diagnostics {
			out = append(out, entry(w, d))
			seen[d] = true
		}
	}
	for _, d := range r.Diagnostics {
		if !seen[d] {
			out = append(out, store.SyncLogEntry{File: d.File, Severity: d.Severity, Rule: d.Rule,
				Message: d.Message, Line: d.Line, Column: d.Column})
		}
	}
	return out
}

func entry(w *project.Workflow, d diag.Diagnostic) store.SyncLogEntry {
	return store.SyncLogEntry{WorkflowID: w.Settings.ID, File: d.File, Severity: d.Severity, Rule: d.Rule,
		Message: d.Message, Line: d.Line, Column: d.Column}
}

// verifyArtifacts checks a deployment's blobs are stored: a pointer never
// moves to a deployment whose code cannot be loaded.
func (s *Service) verifyArtifacts(ctx context.Context, d store.Deployment) error {
	if d.BundleDigest == "" {
		return fmt.Errorf("deployment %s has no bundle: %w", d.ID, ErrArtifactMissing)
	}
	for _, dg := range []string{d.BundleDigest, d.SourceMapDigest} {
		if dg == "" {
			continue
		}
		ok, err := s.artifacts.Has(ctx, dg)
		if err != nil {
			return fmt.Errorf("check artifact %s of deployment %s: %w", dg, d.ID, err)
		}
		if !ok {
			return fmt.Errorf("artifact %s of deployment %s: %w", dg, d.ID, ErrArtifactMissing)
		}
	}
	return nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// tokenHash is how runtime tokens are stored: they are random and long, so
// a plain SHA-256 resists guessing; a slow hash would only slow requests.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
