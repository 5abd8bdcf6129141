package githubapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// onCheckRun: "Re-run" syncs (or re-checks) the commit again; the "Make
// live" button makes the commit's deployments live; the behaviour diff's
// "Run again" (or its re-run) diffs its pull request again.
func (a *App) onCheckRun(ctx context.Context, d DeliveryArgs, e *github.CheckRunEvent) error {
	cr := e.GetCheckRun()
	switch cr.GetName() {
	case CheckSync, CheckBuild, CheckDiff:
	default:
		return nil // another app's check run
	}
	r, err := repoFrom(e.GetRepo(), e.GetInstallation())
	if err != nil {
		return err
	}
	if ok, err := a.connected(ctx, r); err != nil || !ok {
		return err
	}
	diff := cr.GetName() == CheckDiff
	switch e.GetAction() {
	case "rerequested":
		if diff {
			return a.diffButton(ctx, d, r, cr, e.GetSender())
		}
		return a.resync(ctx, d, r, cr.GetHeadSHA(), cr.GetCheckSuite().GetHeadBranch(), e.GetSender())
	case "requested_action":
		ra := e.GetRequestedAction()
		switch {
		case ra == nil:
		case diff && ra.Identifier == ActionDiff:
			return a.diffButton(ctx, d, r, cr, e.GetSender())
		case !diff && ra.Identifier == ActionMakeLive:
			return a.makeLiveButton(ctx, r, cr, e.GetSender())
		}
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
	return a.resync(ctx, d, r, cs.GetHeadSHA(), cs.GetHeadBranch(), e.GetSender())
}

// resync syncs a commit again (a fresh sync, not a replay) — only a
// commit this repository's pushes already synced into the environment:
// a check suite's head branch is a name anyone can give a fork's branch,
// so it never decides alone what gets deployed. Any other commit (a pull
// request's) is checked again, never deployed.
//
// Syncing again can change what is live, so it needs the permission
// /make-live needs, and it keeps the commit's place in the order pushes
// arrived: a re-run of an older commit never goes live over a newer
// commit's sync.
func (a *App) resync(ctx context.Context, d DeliveryArgs, r repoRef, sha, branch string, sender *github.User) error {
	env := a.envFor(r, branch)
	if env != "" {
		first, synced, err := a.firstSync(ctx, env, r, sha)
		if err != nil {
			return err
		}
		if synced {
			allowed, have, err := a.mayChange(ctx, r, sender)
			if err != nil {
				return err
			}
			if !allowed {
				return a.refuseRerun(ctx, r, env, sha, d.ID, sender, have)
			}
			return a.syncCommit(ctx, syncJob{repo: r, branch: branch, env: env, sha: sha, delivery: d, full: true, orderAt: first})
		}
	}
	_, err := a.checkCommit(ctx, r, sha, d.ID)
	return err
}

// firstSync reports whether a push of the repository synced sha into env,
// and when the first such push arrived.
func (a *App) firstSync(ctx context.Context, env string, r repoRef, sha string) (time.Time, bool, error) {
	syncs, err := a.opts.Deploy.Syncs(ctx, env, 1000)
	if errors.Is(err, deploy.ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	var first time.Time
	for _, s := range syncs {
		if s.CommitSHA == sha && s.Source == "github:"+r.Full() && (first.IsZero() || s.RequestedAt.Before(first)) {
			first = s.RequestedAt
		}
	}
	return first, !first.IsZero(), nil
}

// refuseRerun answers a re-run by someone without the permission with
// completed check runs that say so; nothing is synced.
func (a *App) refuseRerun(ctx context.Context, r repoRef, env, sha, deliveryID string, sender *github.User, have string) error {
	a.log.Info("re-run refused", "repo", r.Full(), "commit", short(sha), "user", sender.GetLogin(), "permission", have)
	red, err := a.redactorFor(ctx, env)
	if err != nil {
		return err
	}
	ids, err := a.startChecks(ctx, r, sha, deliveryID, CheckSync, CheckBuild)
	if err != nil {
		return err
	}
	who := "This re-run"
	if l := sender.GetLogin(); validToken(strings.TrimSuffix(l, "[bot]"), 100) {
		who = "@" + l + "'s re-run"
	}
	out := CheckOutput{Conclusion: "neutral", Title: "Re-run refused",
		Summary: fmt.Sprintf("%s would sync this commit into `%s` again, which can change what is live: that needs %s permission on the repository (has %s). Nothing was synced and nothing live changed.", who, cell(env), a.opts.MinPermission, have)}
	for _, n := range []string{CheckSync, CheckBuild} {
		out.Name = n
		if err := a.finishCheck(ctx, r, ids[n], out, red); err != nil {
			return err
		}
	}
	return nil
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
			Output: &github.CheckRunOutput{Title: github.Ptr(cutUTF8(red.text(title), maxTitle)), Summary: github.Ptr(cutUTF8(red.text(summary), maxSummary))},
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
