package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/store"
)

// SyncRequest is one commit to deploy to one environment.
type SyncRequest struct {
	Env       string
	Dir       string // the commit's tree, checked out
	CommitSHA string
	Source    string // for the record: "github:owner/repo", "dev:/path"
	// RequestedAt orders syncs of one environment (when the push arrived);
	// default now. A sync never moves pointers back past a newer one that
	// already succeeded.
	RequestedAt time.Time
	Actor       string // default "sync"
}

// SyncResult is what a sync did.
type SyncResult struct {
	Sync        SyncRecord
	Deployments []Deployment // created by this sync, in workflow file order
}

// Sync checks the snapshot in req.Dir and deploys it. The returned error is
// for a sync that could not run (database, artifact store, unreadable
// directory) — the sync record says so too; a repository with errors is not
// an error here: the result's Sync.Status is store.SyncFailed and its Log
// holds every diagnostic, per workflow and rule. Either way no live pointer
// moves unless the whole sync succeeded.
func (s *Service) Sync(ctx context.Context, req SyncRequest) (*SyncResult, error) {
	if err := s.EnsureEnvironment(ctx, req.Env); err != nil {
		return nil, err
	}
	if req.RequestedAt.IsZero() {
		req.RequestedAt = s.now()
	}
	if req.Actor == "" {
		req.Actor = "sync"
	}
	rec := store.Sync{
		ID: newID("sync_"), Env: req.Env, CommitSHA: req.CommitSHA, Source: req.Source,
		Status: store.SyncRunning, RequestedAt: req.RequestedAt, StartedAt: s.now(),
	}
	err := s.db.InTx(ctx, func(q store.Q) error {
		// An earlier attempt at this commit that never finished died with
		// its worker; close it so it cannot be mistaken for running.
		if _, err := q.FailInterruptedSyncs(ctx, req.Env, req.CommitSHA, "interrupted: retried", s.now()); err != nil {
			return err
		}
		return q.InsertSync(ctx, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("deploy: start sync of %s: %w", req.Env, err)
	}
	res, err := s.runSync(ctx, req, rec)
	if err != nil {
		// Record why, on a context that outlives a cancelled job.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		log := append(res.Sync.Log, store.SyncLogEntry{Severity: diag.Error, Message: "sync could not finish: " + err.Error()})
		ferr := s.db.InTx(fctx, func(q store.Q) error {
			for _, d := range res.Deployments {
				if d.Status == store.Processing {
					if err := q.SetDeploymentStatus(fctx, d.ID, store.Failed); err != nil {
						return err
					}
				}
			}
			return q.FinishSync(fctx, rec.ID, store.SyncFailed, log, err.Error(), s.now())
		})
		if ferr != nil {
			s.log.Error("record failed sync", "sync_id", rec.ID, "env", req.Env, "err", ferr)
		}
		s.observe("error")
		return nil, fmt.Errorf("deploy: sync %s of %s at %s: %w", rec.ID, req.Env, req.CommitSHA, err)
	}
	s.invalidate(req.Env)
	s.observe(res.Sync.Status)
	return res, nil
}

// observe reports a finished sync's outcome (metrics).
func (s *Service) observe(outcome string) {
	if s.onSync != nil {
		s.onSync(outcome)
	}
}

// planned is one valid workflow on its way to a deployment.
type planned struct {
	wf  *project.Workflow
	dep store.Deployment
}

func (s *Service) runSync(ctx context.Context, req SyncRequest, rec store.Sync) (*SyncResult, error) {
	res := &SyncResult{Sync: rec}
	report, err := s.check(ctx, req.Dir)
	if err != nil {
		return res, fmt.Errorf("read source: %w", err)
	}
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
				d := diag.Errorf(project.RuleDuplicateTrigger, w.File, 1, 1,
					"trigger %s is already served by workflow %q, which is no longer in the repository but stays live until deleted; delete it in Flowgate, or deactivate it, then sync again",
					w.Settings.Trigger, owner)
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
		stale, err := q.NewerSucceededSync(ctx, req.Env, req.RequestedAt)
		if err != nil {
			return err
		}
		autoLive := !env.PreviewMode && !stale
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
			if stale && !env.PreviewMode {
				msg += " (not made live: a newer commit already synced)"
			}
			log = append(log, store.SyncLogEntry{WorkflowID: p.dep.WorkflowID, File: plan[i].wf.File,
				Severity: "info", Message: msg, Deployment: p.dep.ID})
		}
		if err := s.step("finish"); err != nil {
			return err
		}
		return q.FinishSync(ctx, rec.ID, store.SyncSucceeded, log, "", s.now())
	})
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
		return q.FinishSync(ctx, res.Sync.ID, store.SyncFailed, res.Sync.Log,
			fmt.Sprintf("%d error(s) in the repository; nothing was deployed", errs), s.now())
	})
	if err != nil {
		return fmt.Errorf("record failed sync: %w", err)
	}
	res.Sync.Status = store.SyncFailed
	res.Sync.FinishedAt = s.now()
	errs, _ := diag.Count(report.Diagnostics)
	res.Sync.Error = fmt.Sprintf("%d error(s) in the repository; nothing was deployed", errs)
	return nil
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
