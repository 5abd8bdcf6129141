package githubapp

import (
	"context"
	"errors"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/deploy"
)

// onPullRequest checks a pull request's head commit: the same validation
// and build as a sync, as check runs with annotations — never deployed,
// never touching a live pointer. Top-level code runs in the sandbox
// runner's workers with no bindings and no environment values, so a pull
// request from a fork is checked the same way without seeing a secret.
func (a *App) onPullRequest(ctx context.Context, d DeliveryArgs, e *github.PullRequestEvent) error {
	switch e.GetAction() {
	case "opened", "synchronize", "reopened":
	default:
		return nil
	}
	r, err := repoFrom(e.GetRepo(), e.GetInstallation())
	if err != nil {
		return err
	}
	if ok, err := a.connected(ctx, r); err != nil || !ok {
		return err
	}
	sha := e.GetPullRequest().GetHead().GetSHA()
	fork := e.GetPullRequest().GetHead().GetRepo().GetFullName() != r.Full()
	a.log.Info("checking pull request", "repo", r.Full(), "pr", e.GetNumber(), "commit", short(sha), "fork", fork, "delivery_id", d.ID)
	res, err := a.checkCommit(ctx, r, sha, d.ID)
	if err != nil || res == nil || a.opts.Diff == nil {
		return err
	}
	// The build succeeded: replay recorded traffic against it.
	_, err = a.postDiff(ctx, r, pull{Number: e.GetNumber(), Head: sha, Base: e.GetPullRequest().GetBase().GetSHA(), Fork: fork}, res, "", true)
	return err
}

// checkCommit validates and builds a commit without deploying it. It
// returns the build when it has no errors.
func (a *App) checkCommit(ctx context.Context, r repoRef, sha, externalID string) (*deploy.CheckResult, error) {
	if !validSHA(sha) {
		return nil, badPayload("commit %q", truncate(sha, 80))
	}
	// Redact the default environment's secrets too: a pull request cannot
	// read them, but its code may quote one it learnt elsewhere.
	red, err := a.redactorFor(ctx, a.commandEnv(r))
	if err != nil {
		return nil, err
	}
	ids, err := a.startChecks(ctx, r, sha, externalID, CheckSync, CheckBuild)
	if err != nil {
		return nil, err
	}
	// The pipeline's first steps (fetch, snapshot, install packages,
	// check and bundle) on the commit, storing nothing.
	res, err := a.opts.Deploy.Check(ctx, deploy.CheckRequest{Source: source(r, "", externalID), CommitSHA: sha})
	if err != nil {
		var bad *deploy.ContentError
		if errors.As(err, &bad) {
			return nil, a.failChecks(ctx, r, ids, "The commit cannot be checked", bad.Error(), red)
		}
		a.interruptChecks(ctx, r, ids, err)
		return nil, err
	}
	rep := res.Report
	out := SyncReport{Repo: r.Full(), SHA: sha, PullRequest: true}
	for _, w := range rep.Workflows {
		out.Workflows = append(out.Workflows, WorkflowLine{ID: w.Settings.ID, Name: w.Settings.Name, Trigger: w.Settings.Trigger, File: w.File})
	}
	out.Diagnostics = rep.Diagnostics
	out = red.report(out)
	if err := a.finishCheck(ctx, r, ids[CheckSync], SyncCheck(out), red); err != nil {
		return nil, err
	}
	if err := a.finishCheck(ctx, r, ids[CheckBuild], BuildCheck(out), red); err != nil {
		return nil, err
	}
	if !rep.OK() {
		return nil, nil
	}
	return res, nil
}
