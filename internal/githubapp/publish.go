package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/diag"
)

// checkIDs are the check runs of one commit's sync, by name.
type checkIDs map[string]int64

// startChecks creates the named check runs (queued) on sha and moves them
// to in_progress. externalID ties them to the delivery.
func (a *App) startChecks(ctx context.Context, r repoRef, sha, externalID string, names ...string) (checkIDs, error) {
	cl := a.client(r)
	ids := checkIDs{}
	for _, name := range names {
		cr, _, err := cl.Checks.CreateCheckRun(ctx, r.Owner, r.Name, github.CreateCheckRunOptions{
			Name: name, HeadSHA: sha, Status: github.Ptr("queued"), ExternalID: github.Ptr(externalID),
			DetailsURL: a.detailsURL(),
		})
		if err != nil {
			return nil, fmt.Errorf("create check run %q on %s@%s: %w", name, r.Full(), short(sha), err)
		}
		ids[name] = cr.GetID()
	}
	for _, name := range names {
		if _, _, err := cl.Checks.UpdateCheckRun(ctx, r.Owner, r.Name, ids[name], github.UpdateCheckRunOptions{
			Name: name, Status: github.Ptr("in_progress"),
		}); err != nil {
			return nil, fmt.Errorf("start check run %q on %s: %w", name, r.Full(), err)
		}
	}
	return ids, nil
}

func (a *App) detailsURL() *string {
	if a.opts.PublicURL == "" {
		return nil
	}
	return github.Ptr(strings.TrimSuffix(a.opts.PublicURL, "/") + "/")
}

// finishCheck completes a check run with out: the conclusion, summary and
// first batch of annotations in one update, then one update per further
// batch of 50. Every text passes through red first.
func (a *App) finishCheck(ctx context.Context, r repoRef, id int64, out CheckOutput, red redactor) error {
	out = red.output(out)
	cl := a.client(r)
	first := []*github.CheckRunAnnotation(nil)
	if len(out.Annotations) > 0 {
		first = ghAnnotations(out.Annotations[0])
	}
	opts := github.UpdateCheckRunOptions{
		Name: out.Name, Status: github.Ptr("completed"), Conclusion: github.Ptr(out.Conclusion),
		Output: &github.CheckRunOutput{Title: github.Ptr(out.Title), Summary: github.Ptr(out.Summary), Annotations: first},
	}
	if out.MakeLive {
		opts.Actions = []*github.CheckRunAction{{Label: "Make live", Description: "Make these deployments live", Identifier: ActionMakeLive}}
	}
	if out.Rerun {
		opts.Actions = append(opts.Actions, &github.CheckRunAction{Label: "Run again", Description: "Replay recorded traffic again", Identifier: ActionDiff})
	}
	if _, _, err := cl.Checks.UpdateCheckRun(ctx, r.Owner, r.Name, id, opts); err != nil {
		return fmt.Errorf("complete check run %q on %s: %w", out.Name, r.Full(), err)
	}
	for _, batch := range out.Annotations[min(1, len(out.Annotations)):] {
		if _, _, err := cl.Checks.UpdateCheckRun(ctx, r.Owner, r.Name, id, github.UpdateCheckRunOptions{
			Name:   out.Name,
			Output: &github.CheckRunOutput{Title: github.Ptr(out.Title), Summary: github.Ptr(out.Summary), Annotations: ghAnnotations(batch)},
		}); err != nil {
			return fmt.Errorf("annotate check run %q on %s: %w", out.Name, r.Full(), err)
		}
	}
	return nil
}

// ActionMakeLive identifies the "Make live" button of a build check run.
const ActionMakeLive = "make-live"

// failChecks completes every check run with one failure message (an
// archive that cannot be synced, an environment owned by another repo).
func (a *App) failChecks(ctx context.Context, r repoRef, ids checkIDs, title, summary string, red redactor) error {
	names := make([]string, 0, len(ids))
	for n := range ids {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := a.finishCheck(ctx, r, ids[n], CheckOutput{Name: n, Conclusion: "failure", Title: title, Summary: summary}, red); err != nil {
			return err
		}
	}
	return nil
}

// interruptChecks marks check runs whose job failed and will be retried
// (best effort: GitHub may be what failed). The retry creates new ones.
func (a *App) interruptChecks(ctx context.Context, r repoRef, ids checkIDs, cause error) {
	for n, id := range ids {
		_, _, err := a.client(r).Checks.UpdateCheckRun(ctx, r.Owner, r.Name, id, github.UpdateCheckRunOptions{
			Name: n, Status: github.Ptr("completed"), Conclusion: github.Ptr("neutral"),
			Output: &github.CheckRunOutput{Title: github.Ptr("Interrupted: retrying"),
				Summary: github.Ptr("Flowgate could not finish this run and will try again; a new check run follows. Nothing live changed unless a later run says so.")},
		})
		if err != nil {
			a.log.Warn("mark check run interrupted", "repo", r.Full(), "check_run", id, "err", err)
		}
	}
	a.log.Warn("sync interrupted; the job will be retried", "repo", r.Full(), "err", cause)
}

func ghAnnotations(as []Annotation) []*github.CheckRunAnnotation {
	out := make([]*github.CheckRunAnnotation, 0, len(as))
	for _, an := range as {
		line := max(an.StartLine, 1)
		end := max(an.EndLine, line)
		out = append(out, &github.CheckRunAnnotation{
			Path: github.Ptr(an.Path), StartLine: github.Ptr(line), EndLine: github.Ptr(end),
			AnnotationLevel: github.Ptr(an.Level), Message: github.Ptr(an.Message), Title: github.Ptr(an.Title),
		})
	}
	return out
}

// redactor replaces the environment's secret values in everything the App
// writes to GitHub (check runs, comments, deployment descriptions).
type redactor []string

const redacted = "[redacted]"

func (a *App) redactorFor(ctx context.Context, env string) (redactor, error) {
	if env == "" {
		return nil, nil
	}
	vars, err := a.opts.Deploy.EnvForInvocation(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("read secrets of %s to redact them: %w", env, err)
	}
	seen := map[string]bool{}
	var red redactor
	for _, v := range vars {
		if !v.IsSecret {
			continue
		}
		for _, f := range secretForms(v.Value) {
			if len(f) >= 4 && !seen[f] {
				seen[f] = true
				red = append(red, f)
			}
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(red, func(i, j int) bool { return len(red[i]) > len(red[j]) })
	return red, nil
}

// secretForms are the spellings a secret value can take on its way into
// a check run: as stored, trimmed (a value pasted with its newline, which
// error messages cut at), quoted by Go or JSON, and escaped for a
// Markdown table cell.
func secretForms(v string) []string {
	forms := []string{v, strings.TrimSpace(v)}
	for _, f := range []string{v, strings.TrimSpace(v)} {
		q := strconv.Quote(f)
		forms = append(forms, q[1:len(q)-1], cell(f), oneLine(f))
		if j, err := json.Marshal(f); err == nil {
			forms = append(forms, string(j[1:len(j)-1]))
		}
	}
	return forms
}

// report redacts what a check run is rendered from, before rendering cuts
// it to GitHub's limits: a cut must never leave part of a secret behind.
func (red redactor) report(r SyncReport) SyncReport {
	if len(red) == 0 {
		return r
	}
	ds := make([]diag.Diagnostic, len(r.Diagnostics))
	for i, d := range r.Diagnostics {
		d.Message, d.File = red.text(d.Message), red.text(d.File)
		ds[i] = d
	}
	r.Diagnostics = ds
	ws := make([]WorkflowLine, len(r.Workflows))
	for i, w := range r.Workflows {
		w.ID, w.Name, w.Trigger, w.File = red.text(w.ID), red.text(w.Name), red.text(w.Trigger), red.text(w.File)
		ws[i] = w
	}
	r.Workflows = ws
	return r
}

func (red redactor) text(s string) string {
	for _, v := range red {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

func (red redactor) output(o CheckOutput) CheckOutput {
	if len(red) == 0 {
		return o
	}
	o.Title = cutUTF8(red.text(o.Title), maxTitle)
	o.Summary = cutUTF8(red.text(o.Summary), maxSummary)
	batches := make([][]Annotation, len(o.Annotations))
	for i, b := range o.Annotations {
		for _, an := range b {
			an.Message = red.text(an.Message)
			an.Title = red.text(an.Title)
			batches[i] = append(batches[i], an)
		}
	}
	o.Annotations = batches
	return o
}
