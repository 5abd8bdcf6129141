package githubapp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// permissionRank orders GitHub's repository roles.
var permissionRank = map[string]int{"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}

// onIssueComment answers a slash command on the first line of a new
// comment (never an edited one): a reaction to say it was seen, then a
// reply that says what changed. Changing anything needs MinPermission;
// bots are refused.
func (a *App) onIssueComment(ctx context.Context, d DeliveryArgs, e *github.IssueCommentEvent) error {
	if e.GetAction() != "created" {
		return nil
	}
	c := e.GetComment()
	cmd, ok, perr := ParseCommand(c.GetBody())
	if !ok {
		return nil
	}
	r, err := repoFrom(e.GetRepo(), e.GetInstallation())
	if err != nil {
		return err
	}
	if connected, err := a.connected(ctx, r); err != nil || !connected {
		return err
	}
	user := c.GetUser()
	issue := e.GetIssue().GetNumber()
	log := a.log.With("repo", r.Full(), "issue", issue, "user", user.GetLogin(), "delivery_id", d.ID)
	env := a.commandEnv(r)
	red, err := a.redactorFor(ctx, env)
	if err != nil {
		return err
	}
	reply := func(reaction, text string) error {
		if err := a.react(ctx, r, c.GetID(), reaction); err != nil {
			log.Warn("react to comment", "err", err)
		}
		_, _, err := a.client(r).Issues.CreateComment(ctx, r.Owner, r.Name, issue, &github.IssueComment{Body: github.Ptr(cutUTF8(red.text(text), maxSummary))})
		if err != nil {
			log.Error("reply to comment", "err", err)
		}
		return nil // the command ran (or was refused); never run it twice
	}
	at := "@" + user.GetLogin()
	if strings.EqualFold(user.GetType(), "Bot") || strings.HasSuffix(user.GetLogin(), "[bot]") {
		if strings.EqualFold(user.GetLogin(), "flowgate[bot]") {
			return nil
		}
		return reply("confused", at+": Flowgate does not take commands from bots.")
	}
	if perr == nil && cmd.Verb == CmdHelp {
		return reply("eyes", HelpText)
	}
	// Whatever the comment says, only a collaborator with the permission
	// learns more than that: a stranger's text is never answered, quoted
	// or parsed further.
	allowed, have, err := a.mayChange(ctx, r, user)
	if err != nil {
		return err
	}
	if !allowed {
		log.Info("slash command refused", "command", knownVerb(cmd.Verb), "permission", have)
		what := "Flowgate commands need"
		if perr == nil {
			what = "`/" + cmd.Verb + "` needs"
		}
		return reply("confused", fmt.Sprintf("%s: %s %s permission on %s or more (you have %s). Nothing changed.", at, what, a.opts.MinPermission, r.Full(), have))
	}
	if perr != nil {
		return reply("confused", fmt.Sprintf("%s: %s.\n\n%s", at, perr, HelpText))
	}
	env, err = a.ownedEnv(ctx, r)
	if err != nil {
		return err
	}
	if env == "" {
		return reply("confused", fmt.Sprintf("%s: %s is not synced into any environment yet: push to its default branch first.", at, r.Full()))
	}
	if err := a.react(ctx, r, c.GetID(), "eyes"); err != nil {
		log.Warn("react to comment", "err", err)
	}
	var text, reaction string
	switch {
	case cmd.Verb == CmdDiff:
		text, reaction, err = a.diffCommand(ctx, d, r, e.GetIssue(), cmd.Workflow)
	case cmd.Verb == CmdSync:
		text, reaction, err = a.syncAgain(ctx, d, r, env)
	default:
		text, reaction, err = a.runCommand(ctx, r, env, cmd, user.GetLogin(), fmt.Sprintf("/%s in %s#%d", cmd.Verb, r.Full(), issue), red)
	}
	if err != nil {
		return err
	}
	log.Info("slash command", "command", cmd.Verb, "workflow_id", cmd.Workflow, "outcome", reaction)
	return reply(reaction, at+": "+text)
}

// knownVerb is a verb fit for a log line: one of ours, or "unknown".
func knownVerb(v string) string {
	switch v {
	case CmdMakeLive, CmdRollback, CmdDeactivate, CmdStatus, CmdHelp, CmdSync, CmdDiff:
		return v
	}
	return "unknown"
}

// runCommand carries out an allowed command; the text says what changed.
// Errors are for a store that cannot be reached (the job retries; nothing
// changed); refusals of the control plane are answers.
func (a *App) runCommand(ctx context.Context, r repoRef, env string, cmd Command, login, reason string, red redactor) (text, reaction string, err error) {
	by := deploy.Actor{Name: "github:" + login, Reason: reason}
	answer := func(err error) (string, string, error) {
		switch {
		case errors.Is(err, deploy.ErrNotFound):
			return fmt.Sprintf("`/%s` failed: not found (%s). Nothing changed.", cmd.Verb, cleanErr(err)), "confused", nil
		case errors.Is(err, deploy.ErrConflict), errors.Is(err, deploy.ErrInvalid), errors.Is(err, deploy.ErrArtifactMissing):
			return fmt.Sprintf("`/%s` refused: %s. Nothing changed.", cmd.Verb, cleanErr(err)), "confused", nil
		}
		return "", "", err
	}
	switch cmd.Verb {
	case CmdStatus:
		return a.status(ctx, env)
	case CmdMakeLive:
		before, err := a.opts.Deploy.Workflow(ctx, env, cmd.Workflow)
		if err != nil {
			return answer(err)
		}
		depID := cmd.Deployment
		if depID == "" {
			if depID, err = a.newestGood(ctx, env, cmd.Workflow); err != nil {
				return answer(err)
			}
		}
		if depID == before.LiveDeploymentID {
			return fmt.Sprintf("`%s` is already the live deployment of `%s`. Nothing changed.", depID, cmd.Workflow), "confused", nil
		}
		dep, err := a.opts.Deploy.MakeLive(ctx, env, cmd.Workflow, depID, by)
		if err != nil {
			return answer(err)
		}
		a.recordFlip(ctx, r, env, dep.CommitSHA, "success", flipDescription("make-live", map[string]string{cmd.Workflow: dep.ID}), map[string]string{cmd.Workflow: dep.ID}, red)
		return fmt.Sprintf("made `%s` (commit `%s`) the live deployment of `%s` in `%s`%s.", dep.ID, short(dep.CommitSHA), cmd.Workflow, env, was(before.LiveDeploymentID)), "rocket", nil
	case CmdRollback:
		before, err := a.opts.Deploy.Workflow(ctx, env, cmd.Workflow)
		if err != nil {
			return answer(err)
		}
		dep, err := a.opts.Deploy.Rollback(ctx, env, cmd.Workflow, by)
		if err != nil {
			return answer(err)
		}
		a.recordFlip(ctx, r, env, dep.CommitSHA, "success", flipDescription("rollback", map[string]string{cmd.Workflow: dep.ID}), map[string]string{cmd.Workflow: dep.ID}, red)
		return fmt.Sprintf("rolled `%s` back in `%s`: `%s` (commit `%s`) is live again%s.", cmd.Workflow, env, dep.ID, short(dep.CommitSHA), was(before.LiveDeploymentID)), "rocket", nil
	case CmdDeactivate:
		before, err := a.opts.Deploy.Workflow(ctx, env, cmd.Workflow)
		if err != nil {
			return answer(err)
		}
		if before.LiveDeploymentID == "" {
			return fmt.Sprintf("`%s` has no live deployment in `%s`. Nothing changed.", cmd.Workflow, env), "confused", nil
		}
		prev, err := a.opts.Deploy.Deployment(ctx, env, before.LiveDeploymentID)
		if err != nil {
			return answer(err)
		}
		if err := a.opts.Deploy.Deactivate(ctx, env, cmd.Workflow, by); err != nil {
			return answer(err)
		}
		a.recordFlip(ctx, r, env, prev.CommitSHA, "inactive", flipDescription("deactivate", map[string]string{cmd.Workflow: ""}), map[string]string{cmd.Workflow: ""}, red)
		return fmt.Sprintf("deactivated `%s` in `%s`: `%s` is now Deactivated and the trigger is skipped until a deployment is made live.", cmd.Workflow, env, prev.ID), "rocket", nil
	}
	return HelpText, "eyes", nil
}

func was(prev string) string {
	if prev == "" {
		return " (nothing was live)"
	}
	return fmt.Sprintf(" (was `%s`)", prev)
}

// cleanErr drops the Go package prefixes from a control-plane error.
func cleanErr(err error) string {
	s := err.Error()
	for _, p := range []string{"deploy: ", "store: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return truncate(oneLine(s), 300)
}

// newestGood is the newest deployment of a workflow that can go live.
func (a *App) newestGood(ctx context.Context, env, wf string) (string, error) {
	deps, err := a.opts.Deploy.Deployments(ctx, env, wf, 100)
	if err != nil {
		return "", err
	}
	for _, d := range deps {
		switch d.Status {
		case store.Draft, store.Deployed, store.Live, store.Deactivated:
			return d.ID, nil
		}
	}
	return "", fmt.Errorf("workflow %s has no deployment that can go live: %w", wf, deploy.ErrNotFound)
}

// status is the /status reply: every workflow with what is live.
func (a *App) status(ctx context.Context, env string) (string, string, error) {
	wfs, err := a.opts.Deploy.Workflows(ctx, env)
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "environment `%s`:\n\n", env)
	if len(wfs) == 0 {
		b.WriteString("no workflows yet.")
		return b.String(), "rocket", nil
	}
	b.WriteString("| Workflow | Trigger | Live | Newest | Status |\n| --- | --- | --- | --- | --- |\n")
	for _, w := range wfs {
		live := "—"
		if w.LiveDeploymentID != "" {
			live = "`" + w.LiveDeploymentID + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | `%s` | %s |\n", cell(w.ID), cell(w.Trigger), live, cell(w.LatestDeploymentID), cell(string(w.LatestStatus)))
	}
	return b.String(), "rocket", nil
}

// react puts a reaction on a comment.
func (a *App) react(ctx context.Context, r repoRef, commentID int64, content string) error {
	_, _, err := a.client(r).Reactions.CreateIssueCommentReaction(ctx, r.Owner, r.Name, commentID, content)
	return err
}

// mayChange asks GitHub for the user's role on the repository.
func (a *App) mayChange(ctx context.Context, r repoRef, user *github.User) (bool, string, error) {
	if user == nil || !validToken(strings.TrimSuffix(user.GetLogin(), "[bot]"), 100) {
		return false, "none", nil
	}
	cl := a.client(r)
	req, err := cl.NewRequest(ctx, "GET", fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", r.Owner, r.Name, user.GetLogin()), nil)
	if err != nil {
		return false, "", err
	}
	var perm struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	resp, err := cl.Do(req, &perm)
	if resp != nil && resp.StatusCode == 404 {
		return false, "none", nil // not a collaborator
	}
	if err != nil {
		return false, "", fmt.Errorf("permission of %s on %s: %w", user.GetLogin(), r.Full(), err)
	}
	role := perm.RoleName
	if _, known := permissionRank[role]; !known {
		role = perm.Permission // custom roles: their base permission
	}
	return permissionRank[role] >= permissionRank[a.opts.MinPermission], role, nil
}

// ownedEnv is the environment commands act on, if this repository is the
// one connected to it ("" when it has never synced).
func (a *App) ownedEnv(ctx context.Context, r repoRef) (string, error) {
	env := a.commandEnv(r)
	if env == "" {
		return "", nil
	}
	src, err := a.opts.Deploy.SourceFor(ctx, env)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if src.Kind != "github" || !owns(src, r) {
		return "", nil
	}
	return env, nil
}

// syncAgain is /sync: the environment's newest synced commit of r is
// synced again as it is (a full sync, like a check run's re-run), so that
// "sync again" after deleting or deactivating a workflow needs no new
// commit. The sync reports on the commit's check runs as a push's does.
func (a *App) syncAgain(ctx context.Context, d DeliveryArgs, r repoRef, env string) (text, reaction string, err error) {
	sha, err := a.lastSynced(ctx, r, env)
	if err != nil {
		return "", "", err
	}
	if sha == "" {
		return fmt.Sprintf("%s has no synced commit in `%s` yet: push to its branch first.", r.Full(), env), "confused", nil
	}
	branch := r.DefaultBranch
	for _, rule := range a.opts.Environments {
		if strings.EqualFold(rule.Repo, r.Full()) && rule.Env == env {
			branch = rule.Branch
		}
	}
	// The newest synced commit, requested now: a person asked for it after
	// whatever flip they made, so it goes live again (a re-run of an older
	// commit keeps its first push's place instead, see resync).
	if err := a.syncCommit(ctx, syncJob{repo: r, branch: branch, env: env, sha: sha, delivery: d,
		full: true}); err != nil {
		return "", "", err
	}
	return fmt.Sprintf("synced commit `%s` into `%s` again; its check runs have the result.", short(sha), env), "rocket", nil
}

// lastSynced is the newest commit of r synced into env ("" for none).
func (a *App) lastSynced(ctx context.Context, r repoRef, env string) (string, error) {
	syncs, err := a.opts.Deploy.Syncs(ctx, env, 1000)
	if err != nil && !errors.Is(err, deploy.ErrNotFound) {
		return "", err
	}
	var newest store.Sync
	for _, s := range syncs {
		if s.Source == "github:"+r.Full() && s.RequestedAt.After(newest.RequestedAt) {
			newest = s
		}
	}
	return newest.CommitSHA, nil
}
