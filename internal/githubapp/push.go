package githubapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v88/github"

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
	job := syncJob{repo: r, branch: branch, env: env, sha: e.GetAfter(), delivery: d, forced: e.GetForced()}
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
	forced   bool      // a forced push: synced again even if the commit was before
	orderAt  time.Time // a re-run's place in the order of syncs: its first push
}

// syncCommit syncs one commit through the deploy pipeline. GitHub's part
// is the environment's claim, fetching the tarball and the check runs
// (the reporter below); everything between is deploy's.
func (a *App) syncCommit(ctx context.Context, j syncJob) error {
	r := j.repo
	if !validSHA(j.sha) {
		return badPayload("commit %q", truncate(j.sha, 80))
	}
	if err := a.claimEnv(ctx, j.env, r, j.branch); err != nil {
		var taken *envTakenError
		if !errors.As(err, &taken) {
			return err
		}
		red, err := a.redactorFor(ctx, j.env)
		if err != nil {
			return err
		}
		ids, err := a.startChecks(ctx, r, j.sha, j.delivery.ID, CheckSync, CheckBuild)
		if err != nil {
			return err
		}
		return a.failChecks(ctx, r, ids, "Environment not connected to this repository", taken.Error()+".", red)
	}
	req := deploy.SyncRequest{Env: j.env, Source: source(r, j.branch, j.delivery.ID), CommitSHA: j.sha,
		RequestedAt: j.requestedAt()}
	if !j.full {
		req.Changed = append([]string{}, j.changed...)
	}
	// A push is synced once per commit; a re-run, or a forced push back
	// to a commit synced before, is a new sync of it on purpose.
	if j.delivery.Event != "push" || j.forced {
		req.Resync = "delivery:" + j.delivery.ID
	}
	res, err := a.opts.Deploy.Run(ctx, req)
	if err != nil {
		return err
	}
	if res.ReportErr != nil {
		return res.ReportErr // the sync stands; the retry reports it again
	}
	return nil
}

// reporter is the App as the pipeline's GitHub Reporter: check runs
// "Flowgate sync" and "Flowgate build", and a GitHub Deployment for what
// went live.
type reporter struct{ a *App }

func (rp reporter) SyncStarted(ctx context.Context, req deploy.SyncRequest, y deploy.SyncRecord) error {
	a := rp.a
	r, m, err := repoOf(req.Source)
	if err != nil {
		return err
	}
	ids, err := a.startChecks(ctx, r, req.CommitSHA, m.Delivery, CheckSync, CheckBuild)
	if err != nil {
		return err
	}
	for name, id := range ids {
		if err := a.opts.Deploy.RecordCheckRun(ctx, y.ID, name, id); err != nil {
			return err
		}
	}
	return nil
}

func (rp reporter) SyncFinished(ctx context.Context, req deploy.SyncRequest, res *deploy.SyncResult) error {
	a := rp.a
	r, m, err := repoOf(req.Source)
	if err != nil {
		return err
	}
	j := syncJob{repo: r, branch: m.Branch, env: req.Env, sha: req.CommitSHA, delivery: DeliveryArgs{ID: m.Delivery}}
	log := a.log.With("repo", r.Full(), "env", j.env, "commit", short(j.sha), "delivery_id", m.Delivery, "sync_id", res.Sync.ID)
	red, err := a.redactorFor(ctx, j.env)
	if err != nil {
		return err
	}
	ids, err := a.opts.Deploy.CheckRuns(ctx, res.Sync.ID)
	if err != nil {
		return err
	}
	if res.Sync.Status == store.SyncInterrupted {
		if len(ids) > 0 {
			a.interruptChecks(ctx, r, ids, errors.New(res.Sync.Error))
		}
		return nil
	}
	if ids[CheckSync] == 0 || ids[CheckBuild] == 0 {
		// A replay, or a sync ended before it started reporting.
		if ids, err = a.startChecks(ctx, r, j.sha, m.Delivery, CheckSync, CheckBuild); err != nil {
			return err
		}
		for name, id := range ids {
			if err := a.opts.Deploy.RecordCheckRun(ctx, res.Sync.ID, name, id); err != nil {
				log.Warn("remember check run", "err", err)
			}
		}
	}
	switch res.Sync.Reason {
	case store.ReasonUnsyncable:
		return a.failChecks(ctx, r, ids, "The commit cannot be synced", res.Sync.Error+"\n\nNothing was deployed and nothing live changed.", red)
	case store.ReasonKilled:
		return a.failChecks(ctx, r, ids, "The sync keeps stopping Flowgate", res.Sync.Error+"\n\nNothing was deployed and nothing live changed.", red)
	case store.ReasonNothing:
		log.Info("push changes nothing Flowgate reads; not synced")
		skip := CheckOutput{Conclusion: "skipped", Title: "Nothing to sync",
			Summary: fmt.Sprintf("No file under `%s`, `kinde.json` or the package files changed, so nothing was synced. Live deployments are unchanged.", cell(res.RootDir))}
		for _, n := range []string{CheckSync, CheckBuild} {
			skip.Name = n
			if err := a.finishCheck(ctx, r, ids[n], skip, red); err != nil {
				return err
			}
		}
		return nil
	}
	return a.publishSync(ctx, j, res, ids, red)
}

// publishSync completes the check runs with a sync's outcome and records
// what went live as a GitHub Deployment (once: not on a replay).
func (a *App) publishSync(ctx context.Context, j syncJob, res *deploy.SyncResult, ids checkIDs, red redactor) error {
	r := j.repo
	log := a.log.With("repo", r.Full(), "env", j.env, "commit", short(j.sha), "delivery_id", j.delivery.ID)
	environment, err := a.opts.Deploy.Environment(ctx, j.env)
	if err != nil {
		return err
	}
	rep := a.report(j, res, environment.PreviewMode)
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
	if len(live) > 0 && ids[ghDeploymentKey] == 0 {
		// Once per sync: a retry whose first report failed records it.
		// Its failures are logged inside and never retried.
		if id, _ := a.recordFlip(ctx, r, j.env, j.sha, "success", flipDescription("auto-live", live), live, red); id != 0 {
			if err := a.opts.Deploy.RecordCheckRun(ctx, res.Sync.ID, ghDeploymentKey, id); err != nil {
				log.Warn("remember GitHub deployment", "err", err)
			}
		}
	}
	return nil
}

// ghDeploymentKey records, beside a sync's check runs, the GitHub
// Deployment made for what it put live.
const ghDeploymentKey = "github-deployment"

func (j syncJob) requestedAt() time.Time {
	if !j.orderAt.IsZero() {
		return j.orderAt.UTC().Truncate(time.Microsecond)
	}
	return j.delivery.ReceivedAt.UTC().Truncate(time.Microsecond)
}

// report turns a sync into what the check runs show.
func (a *App) report(j syncJob, res *deploy.SyncResult, preview bool) SyncReport {
	rep := SyncReport{Repo: j.repo.Full(), SHA: j.sha, Environment: j.env, PreviewMode: preview, LogURL: a.logURL(j.env)}
	for _, dep := range res.Deployments {
		var s workflow.Settings
		json.Unmarshal(dep.Settings, &s)
		line := WorkflowLine{ID: dep.WorkflowID, Name: s.Name, Trigger: s.Trigger, File: dep.File, Deployment: dep.ID, Status: string(dep.Status)}
		rep.Workflows = append(rep.Workflows, line)
	}
	rep.Diagnostics = append(rep.Diagnostics, logDiagnostics(res.Sync.Log)...)
	if res.Sync.Status == store.SyncFailed && len(diagErrors(rep.Diagnostics)) == 0 {
		// Failed without a located error: say why on kinde.json.
		rep.Diagnostics = append(rep.Diagnostics, diag.New(diag.RuleSyncFailed, "kinde.json", 1, 1, "%s", res.Sync.Error))
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

func diagErrors(ds []diag.Diagnostic) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, d := range ds {
		if d.IsError() {
			out = append(out, d)
		}
	}
	return out
}
