package githubapp

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v62/github"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// onCheckRun: "Re-run" syncs (or re-checks) the commit again; the "Make
// live" button makes the commit's deployments live.
func (a *App) onCheckRun(ctx context.Context, d DeliveryArgs, e *github.CheckRunEvent) error {
	cr := e.GetCheckRun()
	if cr.GetName() != CheckSync && cr.GetName() != CheckBuild {
		return nil // another app's check run
	}
	r, err := repoFrom(e.GetRepo(), e.GetInstallation())
	if err != nil {
		return err
	}
	if ok, err := a.connected(ctx, r); err != nil || !ok {
		return err
	}
	switch e.GetAction() {
	case "rerequested":
		return a.resync(ctx, d, r, cr.GetHeadSHA(), cr.GetCheckSuite().GetHeadBranch())
	case "requested_action":
		if ra := e.GetRequestedAction(); ra == nil || ra.Identifier != ActionMakeLive {
			return nil
		}
		return a.makeLiveButton(ctx, r, cr, e.GetSender())
	}
	return nil
}

// onCheckSuite: "Re-run all checks" syncs (or re-checks) the commit again.
func (a *App) onCheckSuite(ctx context.Context, d DeliveryArgs, e *github.CheckSuiteEvent) error {
	if e.GetAction() != "rerequested" {
		return nil
	}
	r, err := repoFrom(e.GetRepo(), e.GetInstallation())
	if err != nil {
		return err
	}
	if ok, err := a.connected(ctx, r); err != nil || !ok {
		return err
	}
	cs := e.GetCheckSuite()
	return a.resync(ctx, d, r, cs.GetHeadSHA(), cs.GetHeadBranch())
}

// resync syncs a commit again (a fresh sync, not a replay) — only a
// commit this repository's pushes already synced into the environment:
// a check suite's head branch is a name anyone can give a fork's branch,
// so it never decides alone what gets deployed. Any other commit (a pull
// request's) is checked again, never deployed.
func (a *App) resync(ctx context.Context, d DeliveryArgs, r repoRef, sha, branch string) error {
	env := a.envFor(r, branch)
	if env != "" {
		synced, err := a.syncedBefore(ctx, env, r, sha)
		if err != nil {
			return err
		}
		if synced {
			return a.syncCommit(ctx, syncJob{repo: r, branch: branch, env: env, sha: sha, delivery: d, full: true})
		}
	}
	return a.checkCommit(ctx, r, sha, d.ID)
}

// syncedBefore reports whether a push of the repository synced sha into env.
func (a *App) syncedBefore(ctx context.Context, env string, r repoRef, sha string) (bool, error) {
	syncs, err := a.opts.Deploy.Syncs(ctx, env, 1000)
	if errors.Is(err, deploy.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range syncs {
		if s.CommitSHA == sha && s.Source == "github:"+r.Full() {
			return true, nil
		}
	}
	return false, nil
}

// makeLiveButton makes live every deployment the commit's sync left
// waiting (preview mode), if the person who pressed it may.
func (a *App) makeLiveButton(ctx context.Context, r repoRef, cr *github.CheckRun, sender *github.User) error {
	env, err := a.ownedEnv(ctx, r)
	if err != nil || env == "" {
		return err
	}
	red, err := a.redactorFor(ctx, env)
	if err != nil {
		return err
	}
	allowed, have, err := a.mayChange(ctx, r, sender)
	if err != nil {
		return err
	}
	note := func(title, summary string) {
		_, _, err := a.client(r).Checks.UpdateCheckRun(ctx, r.Owner, r.Name, cr.GetID(), github.UpdateCheckRunOptions{
			Name:   cr.GetName(),
			Output: &github.CheckRunOutput{Title: github.String(cutUTF8(red.text(title), maxTitle)), Summary: github.String(cutUTF8(red.text(summary), maxSummary))},
		})
		if err != nil {
			a.log.Warn("update check run after make live", "repo", r.Full(), "err", err)
		}
	}
	if !allowed {
		note("Make live refused", fmt.Sprintf("@%s pressed Make live, but needs %s permission on the repository (has %s). Nothing changed.", sender.GetLogin(), a.opts.MinPermission, have))
		return nil
	}
	wfs, err := a.opts.Deploy.Workflows(ctx, env)
	if err != nil {
		return err
	}
	made := map[string]string{}
	for _, w := range wfs {
		deps, err := a.opts.Deploy.Deployments(ctx, env, w.ID, 50)
		if err != nil {
			return err
		}
		for _, dep := range deps {
			if dep.CommitSHA != cr.GetHeadSHA() {
				continue
			}
			if dep.Status == store.Draft || dep.Status == store.Deployed {
				if _, err := a.opts.Deploy.MakeLive(ctx, env, w.ID, dep.ID, deploy.Actor{Name: "github:" + sender.GetLogin(), Reason: "Make live button on " + short(cr.GetHeadSHA())}); err != nil {
					a.log.Warn("make live from button", "workflow_id", w.ID, "deployment_id", dep.ID, "err", err)
					continue
				}
				made[w.ID] = dep.ID
			}
			break // the newest deployment of this commit only
		}
	}
	if len(made) == 0 {
		note("Nothing to make live", "No deployment of this commit is waiting to go live.")
		return nil
	}
	a.recordFlip(ctx, r, env, cr.GetHeadSHA(), "success", flipDescription("make-live", made), made, red)
	note("Made live by @"+sender.GetLogin(), flipDescription("Now live", made))
	return nil
}
