package githubapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// fullSyncCommits: a push listing this many commits may have been cut
// short by GitHub (payloads carry at most 20), so its file list is not
// trusted and the commit is synced whatever changed.
const fullSyncCommits = 20

// onPush syncs a push to a connected branch.
func (a *App) onPush(ctx context.Context, d DeliveryArgs, e *github.PushEvent) error {
	if e.GetDeleted() || !strings.HasPrefix(e.GetRef(), "refs/heads/") {
		return nil // a deleted branch or a tag
	}
	repo := e.GetRepo()
	if repo == nil || e.GetInstallation().GetID() == 0 {
		return badPayload("push without repository or installation")
	}
	owner := repo.GetOwner().GetLogin()
	if owner == "" {
		owner = repo.GetOwner().GetName()
	}
	r := repoRef{Owner: owner, Name: repo.GetName(), DefaultBranch: repo.GetDefaultBranch(), Installation: e.GetInstallation().GetID(), ID: repo.GetID()}
	if !validRepo(r.Full()) {
		return badPayload("repository %q", truncate(r.Full(), 200))
	}
	ok, err := a.connected(ctx, r)
	if err != nil || !ok {
		return err
	}
	branch := strings.TrimPrefix(e.GetRef(), "refs/heads/")
	env := a.envFor(r, branch)
	if env == "" {
		return nil // not a connected branch
	}
	job := syncJob{repo: r, branch: branch, env: env, sha: e.GetAfter(), delivery: d}
	job.full = e.GetForced() || len(e.Commits) >= fullSyncCommits || strings.Trim(e.GetBefore(), "0") == ""
	for _, c := range e.Commits {
		job.changed = append(job.changed, c.Added...)
		job.changed = append(job.changed, c.Modified...)
		job.changed = append(job.changed, c.Removed...)
	}
	if len(e.Commits) == 0 {
		job.full = true
	}
	return a.syncCommit(ctx, job)
}

// syncJob is one commit to sync into one environment.
type syncJob struct {
	repo     repoRef
	branch   string
	env      string
	sha      string
	delivery DeliveryArgs
	changed  []string  // paths the push changed
	full     bool      // sync whatever changed (forced push, resync, long push)
	rerun    bool      // a re-run: a fresh sync, never the report of an earlier one
	orderAt  time.Time // a re-run's place in the order of syncs: its first push
}

// syncCommit runs one sync with its check runs: fetch, skip when nothing
// that matters changed, deploy.Service.Sync (or the result of an earlier
// attempt of this very delivery), check runs, GitHub Deployments.
func (a *App) syncCommit(ctx context.Context, j syncJob) error {
	r := j.repo
	if !validSHA(j.sha) {
		return badPayload("commit %q", truncate(j.sha, 80))
	}
	log := a.log.With("repo", r.Full(), "env", j.env, "commit", short(j.sha), "delivery_id", j.delivery.ID)
	red, err := a.redactorFor(ctx, j.env)
	if err != nil {
		return err
	}
	// A retry of a delivery whose sync finished (GitHub failed afterwards)
	// reports that sync on the same check runs, without syncing again.
	prev, err := a.finishedSync(ctx, j)
	if err != nil {
		return err
	}
	if prev != nil {
		ids, err := a.opts.Deploy.Store().CheckRuns(ctx, prev.Sync.ID)
		if err != nil {
			return err
		}
		if ids[CheckSync] == 0 || ids[CheckBuild] == 0 {
			if ids, err = a.startChecks(ctx, r, j.sha, j.delivery.ID, CheckSync, CheckBuild); err != nil {
				return err
			}
		}
		log.Info("retry: reporting the finished sync", "sync_id", prev.Sync.ID)
		return a.publishSync(ctx, j, prev, &snapshot{}, ids, red)
	}
	ids, err := a.startChecks(ctx, r, j.sha, j.delivery.ID, CheckSync, CheckBuild)
	if err != nil {
		return err
	}
	if err := a.claimEnv(ctx, j.env, r, j.branch); err != nil {
		var taken *envTakenError
		if errors.As(err, &taken) {
			return a.failChecks(ctx, r, ids, "Environment not connected to this repository", taken.Error()+".", red)
		}
		a.interruptChecks(ctx, r, ids, err)
		return err
	}
	snap, err := a.fetch(ctx, r, j.sha)
	if err != nil {
		var bad *contentError
		if errors.As(err, &bad) {
			return a.failChecks(ctx, r, ids, "The commit cannot be synced", bad.Error()+"\n\nNothing was deployed and nothing live changed.", red)
		}
		a.interruptChecks(ctx, r, ids, err)
		return err
	}
	defer snap.release()
	if !j.full && !anyRelevant(j.changed, snap.RootDir) {
		log.Info("push changes nothing Flowgate reads; not synced")
		skip := CheckOutput{Conclusion: "skipped", Title: "Nothing to sync",
			Summary: fmt.Sprintf("No file under `%s`, `kinde.json` or the package files changed, so nothing was synced. Live deployments are unchanged.", cell(snap.RootDir))}
		for _, n := range []string{CheckSync, CheckBuild} {
			skip.Name = n
			if err := a.finishCheck(ctx, r, ids[n], skip, red); err != nil {
				return err
			}
		}
		return nil
	}
	if diag.HasErrors(snap.NPM) {
		// Packages the workflows import could not be installed (off the
		// allow-list, integrity mismatch): nothing may deploy.
		log.Info("npm packages refused; not synced")
		rep := SyncReport{Repo: r.Full(), SHA: j.sha, Environment: j.env, Diagnostics: snap.NPM}
		for _, out := range []CheckOutput{SyncCheck(red.report(rep)), BuildCheck(red.report(rep))} {
			if err := a.finishCheck(ctx, r, ids[out.Name], out, red); err != nil {
				return err
			}
		}
		return nil
	}
	res, err := a.opts.Deploy.Sync(ctx, deploy.SyncRequest{Env: j.env, Dir: snap.Dir, CommitSHA: j.sha,
		Source: "github:" + r.Full(), RequestedAt: j.requestedAt()})
	if err != nil {
		a.interruptChecks(ctx, r, ids, err)
		return err
	}
	for name, id := range ids {
		if err := a.opts.Deploy.Store().PutCheckRun(ctx, res.Sync.ID, name, id); err != nil {
			log.Warn("remember check run", "err", err) // a retry then makes new ones
		}
	}
	return a.publishSync(ctx, j, res, snap, ids, red)
}

// publishSync completes the check runs with a sync's outcome and records
// what went live as a GitHub Deployment.
func (a *App) publishSync(ctx context.Context, j syncJob, res *deploy.SyncResult, snap *snapshot, ids checkIDs, red redactor) error {
	r := j.repo
	log := a.log.With("repo", r.Full(), "env", j.env, "commit", short(j.sha), "delivery_id", j.delivery.ID)
	environment, err := a.opts.Deploy.Environment(ctx, j.env)
	if err != nil {
		return err
	}
	rep := a.report(j, res, snap, environment.PreviewMode)
	rep = red.report(rep)
	if err := a.finishCheck(ctx, r, ids[CheckSync], SyncCheck(rep), red); err != nil {
		return err
	}
	if err := a.finishCheck(ctx, r, ids[CheckBuild], BuildCheck(rep), red); err != nil {
		return err
	}
	log.Info("sync reported", "sync_id", res.Sync.ID, "status", res.Sync.Status, "deployments", len(res.Deployments))
	live := map[string]string{}
	for _, dep := range res.Deployments {
		if dep.Status == store.Live {
			live[dep.WorkflowID] = dep.ID
		}
	}
	if len(live) > 0 {
		a.recordFlip(ctx, r, j.env, j.sha, "success", flipDescription("auto-live", live), live, red)
	}
	return nil
}

func anyRelevant(paths []string, rootDir string) bool {
	for _, p := range paths {
		if relevant(p, rootDir) {
			return true
		}
	}
	return false
}

func (j syncJob) requestedAt() time.Time {
	if !j.orderAt.IsZero() {
		return j.orderAt.UTC().Truncate(time.Microsecond)
	}
	return j.delivery.ReceivedAt.UTC().Truncate(time.Microsecond)
}

// finishedSync is the sync an earlier attempt of this delivery finished
// (the job failed later, talking to GitHub), or nil: a retry never
// deploys twice.
func (a *App) finishedSync(ctx context.Context, j syncJob) (*deploy.SyncResult, error) {
	if j.rerun {
		return nil, nil
	}
	source := "github:" + j.repo.Full()
	at := j.requestedAt()
	prev, err := a.opts.Deploy.Syncs(ctx, j.env, 50)
	if err != nil {
		return nil, err
	}
	for _, s := range prev {
		if s.CommitSHA == j.sha && s.Source == source && s.RequestedAt.Equal(at) &&
			(s.Status == store.SyncSucceeded || s.Status == store.SyncFailed && !interrupted(s)) {
			res := &deploy.SyncResult{Sync: s}
			for _, e := range s.Log {
				if e.Deployment == "" {
					continue
				}
				dep, err := a.opts.Deploy.Deployment(ctx, j.env, e.Deployment)
				if err != nil {
					return nil, err
				}
				res.Deployments = append(res.Deployments, dep)
			}
			return res, nil
		}
	}
	return nil, nil
}

// interrupted: a sync that could not finish (its last log line says so).
func interrupted(s store.Sync) bool {
	return len(s.Log) > 0 && strings.HasPrefix(s.Log[len(s.Log)-1].Message, "sync could not finish")
}

// report turns a sync into what the check runs show.
func (a *App) report(j syncJob, res *deploy.SyncResult, snap *snapshot, preview bool) SyncReport {
	rep := SyncReport{Repo: j.repo.Full(), SHA: j.sha, Environment: j.env, PreviewMode: preview, LogURL: a.logURL(j.env)}
	for _, dep := range res.Deployments {
		var s workflow.Settings
		json.Unmarshal(dep.Settings, &s)
		line := WorkflowLine{ID: dep.WorkflowID, Name: s.Name, Trigger: s.Trigger, File: dep.File, Deployment: dep.ID, Status: string(dep.Status)}
		rep.Workflows = append(rep.Workflows, line)
	}
	rep.Diagnostics = append(rep.Diagnostics, logDiagnostics(res.Sync.Log)...)
	rep.Diagnostics = mergeDiagnostics(rep.Diagnostics, snap.NPM)
	if res.Sync.Status == store.SyncFailed && len(diagErrors(rep.Diagnostics)) == 0 {
		// Failed without a located error: say why on kinde.json.
		rep.Diagnostics = append(rep.Diagnostics, diag.Errorf("sync-failed", "kinde.json", 1, 1, "%s", res.Sync.Error))
	}
	return rep
}

func (a *App) logURL(env string) string {
	if a.opts.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(a.opts.PublicURL, "/") + "/api/v1/environments/" + env + "/syncs"
}

// logDiagnostics are the diagnostics in a sync's log (outcome lines left out).
func logDiagnostics(log []store.SyncLogEntry) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, e := range log {
		if e.Severity != diag.Error && e.Severity != diag.Warning {
			continue
		}
		if e.Rule == "" && e.File == "" {
			continue
		}
		out = append(out, diag.Diagnostic{Severity: e.Severity, Rule: e.Rule, Message: e.Message, File: e.File, Line: e.Line, Column: e.Column})
	}
	return out
}

func mergeDiagnostics(a, b []diag.Diagnostic) []diag.Diagnostic {
	seen := map[diag.Diagnostic]bool{}
	var out []diag.Diagnostic
	for _, d := range append(append([]diag.Diagnostic(nil), a...), b...) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

func diagErrors(ds []diag.Diagnostic) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, d := range ds {
		if d.IsError() {
			out = append(out, d)
		}
	}
	return out
}
