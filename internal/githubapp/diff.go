package githubapp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/prdiff"
	"github.com/flowgate/flowgate/internal/project"
)

// CheckDiff is the check run of a pull request's behaviour diff.
const CheckDiff = "Behaviour diff"

// ActionDiff identifies the "Run again" button of the behaviour diff.
const ActionDiff = "diff"

// pull is a pull request as the behaviour diff needs it.
type pull struct {
	Number     int
	Head, Base string // commit SHAs
	Fork       bool   // the head is in another repository
}

// diffExternalID ties a diff's check run to its pull request, so that its
// button knows which pull request to diff again.
func diffExternalID(n int) string { return "pr:" + strconv.Itoa(n) }

// pullOf reads a diff check run's external id back ("pr:12").
func pullOf(externalID string) (int, bool) {
	digits, ok := strings.CutPrefix(externalID, "pr:")
	if !ok || digits == "" || len(digits) > 9 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n > 0
}

// postDiff runs the behaviour diff of p's head, built as cand (nil or with
// errors: nothing to compare), and posts it as the "Behaviour diff" check
// run. Forks are not replayed automatically: recorded traffic is real
// users' (redacted, but theirs), and a fork's code could show any of it in
// the check run; a collaborator who may change the repository runs it
// with /diff or the button.
func (a *App) postDiff(ctx context.Context, r repoRef, p pull, cand *deploy.CheckResult, only string, auto bool) (prdiff.Outcome, error) {
	env, err := a.ownedEnv(ctx, r)
	if err != nil {
		return prdiff.Outcome{}, err
	}
	red, err := a.redactorFor(ctx, env)
	if err != nil {
		return prdiff.Outcome{}, err
	}
	ids, err := a.startChecks(ctx, r, p.Head, diffExternalID(p.Number), CheckDiff)
	if err != nil {
		return prdiff.Outcome{}, err
	}
	var out prdiff.Outcome
	switch {
	case env == "":
		out = prdiff.Outcome{Conclusion: prdiff.Neutral, Title: "No environment yet",
			Summary: fmt.Sprintf("%s is not synced into any environment yet, so there is no live deployment and no recorded traffic to compare against: push to its default branch first.\n", r.Full())}
	case auto && p.Fork:
		out = prdiff.Outcome{Conclusion: prdiff.Neutral, Title: "Not run for a fork",
			Summary: fmt.Sprintf("This pull request comes from a fork, and the behaviour diff replays recorded traffic of `%s` through its code, showing the results here. A collaborator with %s permission runs it after reading the change: comment `/diff`, or press **Run again**.\n", cell(env), a.opts.MinPermission)}
	case cand == nil || !cand.Report.OK():
		out = prdiff.Outcome{Conclusion: prdiff.Neutral, Title: "Nothing to compare: the build has errors",
			Summary: "The pull request's build has errors (the \"" + CheckBuild + "\" check run lists them): there is nothing to replay until it builds.\n"}
	default:
		var base *project.DiffPolicy
		loaded := false
		loadPolicy := func(ctx context.Context) (*project.DiffPolicy, string, error) {
			pol, note, err := a.basePolicy(ctx, r, p.Base)
			base, loaded = pol, err == nil && note == ""
			return pol, note, err
		}
		out, err = a.opts.Diff.Run(ctx, prdiff.Request{Env: env, Candidate: prdiff.Candidate(cand.Report), Only: only, LoadPolicy: loadPolicy})
		if err != nil {
			a.interruptChecks(ctx, r, ids, err)
			return out, err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Pull request #%d at `%s`, compared with the live deployments of `%s` on their recorded trigger calls.\n\n", p.Number, short(p.Head), cell(env))
		b.WriteString(out.Summary)
		if head := cand.Report.Config; loaded && head != nil && !samePolicy(base, head.DiffPolicy) {
			b.WriteString("\nThis pull request changes `flowgate.behaviourDiff` in kinde.json: it is judged by the base branch's policy, and its own applies once it is merged.\n")
		}
		out.Summary = b.String()
	}
	co := CheckOutput{Name: CheckDiff, Conclusion: out.Conclusion, Title: cutUTF8(out.Title, maxTitle), Rerun: true}
	var b strings.Builder
	b.WriteString(out.Summary)
	co.Summary = finish(&b, "")
	return out, a.finishCheck(ctx, r, ids[CheckDiff], co, red)
}

// basePolicy is the behaviour diff policy of the pull request's base
// commit (nil: none), or why none applies. It fails closed: a base that
// could not be read for now (GitHub unreachable) is an error, and the
// delivery is retried — a neutral check run, which a required check lets
// through, must not stand in for a policy that might fail it. Only a base
// that can never be read (unknown to GitHub, refused as content) is
// reported without a policy.
func (a *App) basePolicy(ctx context.Context, r repoRef, base string) (*project.DiffPolicy, string, error) {
	if !validSHA(base) {
		return nil, "the pull request's base commit is unknown", nil
	}
	cfg, ds, err := a.opts.Deploy.ReadConfig(ctx, source(r, "", ""), base)
	var bad *deploy.ContentError
	switch {
	case errors.As(err, &bad), errors.Is(err, errCommitNotFound):
		a.log.Warn("the base commit's kinde.json cannot be read", "repo", r.Full(), "commit", short(base), "err", err)
		return nil, fmt.Sprintf("the base commit's (`%s`) kinde.json cannot be read", short(base)), nil
	case err != nil:
		return nil, "", fmt.Errorf("read kinde.json of the base commit %s: %w", short(base), err)
	}
	for _, d := range ds {
		if d.Rule == project.RuleInvalidDiffPolicy {
			return nil, fmt.Sprintf("the base commit's (`%s`) kinde.json has an invalid `flowgate.behaviourDiff` (%s)", short(base), project.RuleInvalidDiffPolicy), nil
		}
	}
	if cfg == nil {
		return nil, "", nil
	}
	return cfg.DiffPolicy, "", nil
}

// samePolicy reports whether two policies set the same limits.
func samePolicy(a, b *project.DiffPolicy) bool {
	eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	if a == nil || b == nil {
		return a == b
	}
	return eq(a.MaxChangedPercent, b.MaxChangedPercent) && eq(a.MaxDecisionsChangedPercent, b.MaxDecisionsChangedPercent)
}

// errNoPull: GitHub does not know the pull request.
var errNoPull = errors.New("no such pull request")

// diffPull builds a pull request's current head (without deploying it)
// and posts its behaviour diff: /diff and the "Run again" button.
func (a *App) diffPull(ctx context.Context, d DeliveryArgs, r repoRef, n int, only string) (prdiff.Outcome, string, error) {
	pr, resp, err := a.client(r).PullRequests.Get(ctx, r.Owner, r.Name, n)
	if resp != nil && resp.StatusCode == 404 {
		return prdiff.Outcome{}, "", errNoPull
	}
	if err != nil {
		return prdiff.Outcome{}, "", fmt.Errorf("read pull request %s#%d: %w", r.Full(), n, err)
	}
	p := pull{Number: n, Head: pr.GetHead().GetSHA(), Base: pr.GetBase().GetSHA(),
		Fork: pr.GetHead().GetRepo().GetFullName() != r.Full()}
	if !validSHA(p.Head) {
		return prdiff.Outcome{}, "", badPayload("pull request %d: head commit %q", n, truncate(p.Head, 80))
	}
	res, err := a.opts.Deploy.Check(ctx, deploy.CheckRequest{Source: source(r, "", d.ID), CommitSHA: p.Head})
	var bad *deploy.ContentError
	switch {
	case errors.As(err, &bad):
		res = nil
	case err != nil:
		return prdiff.Outcome{}, "", err
	}
	out, err := a.postDiff(ctx, r, p, res, only, false)
	return out, p.Head, err
}

// diffCommand is /diff [workflow] in a pull request's comment (the
// commenter's permission was checked).
func (a *App) diffCommand(ctx context.Context, d DeliveryArgs, r repoRef, issue *github.Issue, only string) (text, reaction string, err error) {
	if issue == nil || !issue.IsPullRequest() {
		return "`/diff` works in a pull request's comments: it replays recorded traffic against the pull request's build.", "confused", nil
	}
	if a.opts.Diff == nil {
		return "the behaviour diff is not set up on this Flowgate service. Nothing was replayed.", "confused", nil
	}
	out, head, err := a.diffPull(ctx, d, r, issue.GetNumber(), only)
	if errors.Is(err, errNoPull) {
		return fmt.Sprintf("GitHub does not know pull request #%d. Nothing was replayed.", issue.GetNumber()), "confused", nil
	}
	if err != nil {
		return "", "", err
	}
	return fmt.Sprintf("replayed the behaviour diff of `%s`: %s. The \"%s\" check run has the details.", short(head), out.Title, CheckDiff), "rocket", nil
}

// diffButton is the diff check run's "Run again" (or GitHub's re-run):
// the pull request's current head is diffed again, if the person who
// pressed it may. A refusal is told on the check run itself, keeping its
// report.
func (a *App) diffButton(ctx context.Context, d DeliveryArgs, r repoRef, cr *github.CheckRun, sender *github.User) error {
	if a.opts.Diff == nil {
		return nil
	}
	env := a.commandEnv(r)
	red, err := a.redactorFor(ctx, env)
	if err != nil {
		return err
	}
	note := func(title, text string) {
		summary := "**" + title + "**: " + text + "\n\n" + cr.GetOutput().GetSummary()
		_, _, err := a.client(r).Checks.UpdateCheckRun(ctx, r.Owner, r.Name, cr.GetID(), github.UpdateCheckRunOptions{
			Name:   CheckDiff,
			Output: &github.CheckRunOutput{Title: github.Ptr(cutUTF8(red.text(title), maxTitle)), Summary: github.Ptr(cutUTF8(red.text(summary), maxSummary))},
		})
		if err != nil {
			a.log.Warn("update the behaviour diff check run", "repo", r.Full(), "err", err)
		}
	}
	allowed, have, err := a.mayChange(ctx, r, sender)
	if err != nil {
		return err
	}
	if !allowed {
		a.log.Info("behaviour diff re-run refused", "repo", r.Full(), "user", sender.GetLogin(), "permission", have)
		note("Re-run refused", fmt.Sprintf("running the behaviour diff again needs %s permission on the repository (the person who asked has %s). Nothing was replayed.", a.opts.MinPermission, have))
		return nil
	}
	n, ok := pullOf(cr.GetExternalID())
	if !ok {
		note("Cannot re-run", "this check run does not say which pull request it belongs to: comment `/diff` on the pull request instead.")
		return nil
	}
	_, _, err = a.diffPull(ctx, d, r, n, "")
	if errors.Is(err, errNoPull) {
		note("Cannot re-run", fmt.Sprintf("GitHub does not know pull request #%d.", n))
		return nil
	}
	return err
}
