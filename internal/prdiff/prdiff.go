// Package prdiff is a pull request's behaviour diff: the pull request's
// build replayed on an environment's recorded trigger calls against the
// deployment live for each trigger, judged by the repository's policy,
// as the "Behaviour diff" check run shows it. The replay itself is
// internal/replay's; this package gathers its inputs from the service and
// words the outcome.
package prdiff

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Source is what a diff reads from the service (*deploy.Service): the
// environment's runtime state (live deployment per trigger, variables),
// bundles by digest, and the recorded calls of a workflow, newest first.
type Source interface {
	Snapshot(ctx context.Context, env string) (*deploy.Snapshot, error)
	Artifact(ctx context.Context, digest string) ([]byte, error)
	Recordings(ctx context.Context, env, workflowID string, limit int) ([]replay.Recorded, error)
	RecordingSettings(ctx context.Context, env string) (recording.Settings, error)
}

// Defaults of Options.
const (
	DefaultMaxEvents = 500
	DefaultMaxDiffs  = 10
	// DefaultDocsURL is where the check run says how recording is turned on.
	DefaultDocsURL = "https://github.com/flowgate/flowgate/blob/main/docs/recording.md#turning-it-on"
)

// Options configure a Differ. Source and Runner are required.
type Options struct {
	Source Source
	// Runner runs both builds (the service's sandbox: worker processes).
	Runner sandbox.Runner
	// MaxEvents bounds the recorded calls replayed per workflow, newest
	// first (default DefaultMaxEvents).
	MaxEvents int
	// MaxDiffs bounds the differences the report shows per workflow
	// (default DefaultMaxDiffs); every changed event is still counted.
	MaxDiffs int
	// DocsURL is linked when nothing was recorded (default DefaultDocsURL).
	DocsURL string
	// Concurrency is how many replay runs go at once (default 1): the
	// runner's workers also serve the trigger path, which a pull request
	// must not crowd out.
	Concurrency int
}

// Differ runs behaviour diffs. It is safe for concurrent use.
type Differ struct{ o Options }

// New checks opts and returns a Differ.
func New(o Options) (*Differ, error) {
	if o.Source == nil || o.Runner == nil {
		return nil, fmt.Errorf("prdiff: Source and Runner are required")
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.MaxDiffs <= 0 {
		o.MaxDiffs = DefaultMaxDiffs
	}
	if o.DocsURL == "" {
		o.DocsURL = DefaultDocsURL
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	return &Differ{o: o}, nil
}

// Request is one diff.
type Request struct {
	Env string
	// Candidate is the pull request's build: its valid workflows.
	Candidate []invoke.Workflow
	// Only limits the diff to one workflow id (`/diff <workflow>`).
	Only string
	// Policy is the base branch's flowgate.behaviourDiff (nil: none, the
	// check run is neutral). PolicyNote says why none could be read.
	Policy     *project.DiffPolicy
	PolicyNote string
	// LoadPolicy, when set, is called for Policy and PolicyNote only
	// once something was replayed (reading the base commit costs a
	// download that a pull request with nothing to compare need not pay).
	// Its error is returned by Run (try again later).
	LoadPolicy func(context.Context) (*project.DiffPolicy, string, error)
}

// Conclusions of the check run.
const (
	Neutral = "neutral"
	Success = "success"
	Failure = "failure"
)

// Outcome is the check run: its conclusion, title and Markdown summary.
type Outcome struct {
	Conclusion string
	Title      string
	Summary    string
	// Replayed is how many workflows were replayed (0: nothing compared).
	Replayed int
	// Changed is, by workflow id, how much of its recorded traffic changed.
	Changed map[string]Share
}

// Run replays req's candidate against the live deployments on the
// environment's recordings. The error is for state that could not be read
// (the database, the artifact store): try again later. Everything about
// the pull request itself is in the Outcome.
func (d *Differ) Run(ctx context.Context, req Request) (Outcome, error) {
	cand := req.Candidate
	if req.Only != "" {
		cand = nil
		for _, w := range req.Candidate {
			if w.Settings.ID == req.Only {
				cand = append(cand, w)
			}
		}
		if len(cand) == 0 {
			return Outcome{Conclusion: Neutral, Title: "No workflow " + req.Only,
				Summary: fmt.Sprintf("This pull request's build has no workflow `%s`: nothing was replayed.\n", cell(req.Only))}, nil
		}
	}
	if len(cand) == 0 {
		return Outcome{Conclusion: Neutral, Title: "No workflows to compare",
			Summary: "This pull request's build has no valid workflow: nothing was replayed.\n"}, nil
	}
	snap, err := d.o.Source.Snapshot(ctx, req.Env)
	if err != nil {
		return Outcome{}, fmt.Errorf("prdiff: runtime state of %s: %w", req.Env, err)
	}
	var (
		in                   = replay.Input{Env: standIns(snap.Vars()), MaxDiffs: d.o.MaxDiffs, Concurrency: d.o.Concurrency}
		noRecordings, noLive []string
	)
	for _, w := range cand {
		id := w.Settings.ID
		recs, err := d.o.Source.Recordings(ctx, req.Env, id, d.o.MaxEvents)
		if err != nil {
			return Outcome{}, fmt.Errorf("prdiff: recordings of %s in %s: %w", id, req.Env, err)
		}
		if len(recs) == 0 {
			noRecordings = append(noRecordings, id)
			continue
		}
		live := snap.Live(w.Settings.Trigger)
		if live == nil {
			noLive = append(noLive, id)
			continue
		}
		base, err := d.liveWorkflow(ctx, live)
		if err != nil {
			return Outcome{}, err
		}
		in.Candidate = append(in.Candidate, w)
		in.Baseline = append(in.Baseline, base)
		in.Events = append(in.Events, recs...)
	}
	if len(in.Candidate) == 0 && len(noLive) == 0 {
		st, err := d.o.Source.RecordingSettings(ctx, req.Env)
		if err != nil {
			return Outcome{}, fmt.Errorf("prdiff: recording settings of %s: %w", req.Env, err)
		}
		return d.nothingRecorded(req.Env, st, noRecordings), nil
	}
	var rep *replay.Report
	if len(in.Candidate) > 0 {
		rep = replay.Run(ctx, d.o.Runner, in)
		if err := ctx.Err(); err != nil {
			// The runs cut short failed as timeouts: not the pull
			// request's behaviour, so no outcome.
			return Outcome{}, fmt.Errorf("prdiff: replay interrupted: %w", err)
		}
		if req.LoadPolicy != nil {
			if req.Policy, req.PolicyNote, err = req.LoadPolicy(ctx); err != nil {
				return Outcome{}, fmt.Errorf("prdiff: the policy: %w", err)
			}
		}
	}
	return judge(req, rep, noLive, noRecordings), nil
}

// liveWorkflow loads a live deployment's bundle and source map.
func (d *Differ) liveWorkflow(ctx context.Context, l *deploy.LiveDeployment) (invoke.Workflow, error) {
	var w invoke.Workflow
	if err := json.Unmarshal(l.Settings, &w.Settings); err != nil {
		return w, fmt.Errorf("prdiff: settings of deployment %s: %w", l.DeploymentID, err)
	}
	code, err := d.o.Source.Artifact(ctx, l.BundleDigest)
	if err != nil {
		return w, fmt.Errorf("prdiff: bundle of deployment %s: %w", l.DeploymentID, err)
	}
	w.Code = code
	if l.SourceMapDigest != "" {
		if w.SourceMap, err = d.o.Source.Artifact(ctx, l.SourceMapDigest); err != nil {
			return w, fmt.Errorf("prdiff: source map of deployment %s: %w", l.DeploymentID, err)
		}
	}
	return w, nil
}

// standIns are the variables both builds run with. A secret's value is
// never handed to a pull request's code (its result is shown on GitHub,
// and a writer of the repository is not thereby a reader of the
// environment's secrets): each secret reads as the same stand-in in both
// builds, so the comparison stays fair. Recorded outbound answers replace
// every call the secret would have authorised.
func standIns(vars map[string]deploy.EnvValue) map[string]bindings.EnvVar {
	out := make(map[string]bindings.EnvVar, len(vars))
	for name, v := range vars {
		switch {
		case v.Unreadable != "":
			out[name] = bindings.EnvVar{IsSecret: true, Unreadable: v.Unreadable}
		case v.IsSecret:
			out[name] = bindings.EnvVar{Value: SecretStandIn(name), IsSecret: true}
		default:
			out[name] = bindings.EnvVar{Value: v.Value}
		}
	}
	return out
}

// SecretStandIn is what a secret variable reads as in a replay.
func SecretStandIn(name string) string { return "flowgate-replay-secret:" + name }

// nothingRecorded is the outcome when none of the workflows has a
// recorded call: it says why, from the environment's recording settings.
func (d *Differ) nothingRecorded(env string, st recording.Settings, ids []string) Outcome {
	var b strings.Builder
	out := Outcome{Conclusion: Neutral}
	var left []string // the workflows recording leaves out
	for _, id := range ids {
		if !slices.Contains(st.Workflows, id) {
			left = append(left, id)
		}
	}
	switch {
	case !st.Enabled:
		out.Title = "Recording is off"
		fmt.Fprintf(&b, "Nothing was replayed: recording is off in `%s`, so there are no recorded trigger calls for %s.\n\n", cell(env), list(ids))
		fmt.Fprintf(&b, "Turn it on for %s to see here what a pull request would change on real traffic: [Recording trigger traffic: turning it on](%s).\n", list(ids), d.o.DocsURL)
	case len(left) > 0:
		out.Title = "Recording is off for " + strings.Join(left, ", ")
		fmt.Fprintf(&b, "Nothing was replayed: recording is on in `%s`, but not for %s.\n\n", cell(env), list(left))
		fmt.Fprintf(&b, "Add them to the recorded workflows: [Recording trigger traffic: turning it on](%s).\n", d.o.DocsURL)
	default:
		out.Title = "Nothing recorded yet"
		fmt.Fprintf(&b, "Nothing was replayed: recording is on in `%s` for %s (one call in %s is kept), and none has been recorded yet. The next pull request, or `/diff`, replays what is recorded by then.\n", cell(env), list(ids), oneIn(st.SampleRate))
	}
	out.Summary = b.String()
	return out
}

// oneIn words a sample rate: 0.1 → "10", 1 → "1".
func oneIn(rate float64) string {
	if rate <= 0 {
		return "?"
	}
	return strconv.FormatFloat(1/rate, 'g', 3, 64)
}

// judge words the replay's report and applies the policy.
func judge(req Request, rep *replay.Report, noLive, noRecordings []string) Outcome {
	out := Outcome{Conclusion: Neutral, Changed: map[string]Share{}}
	var b strings.Builder
	if rep != nil {
		out.Changed = shares(rep)
		out.Replayed = len(out.Changed)
		if rep.Changed() {
			changed, events := changedEvents(rep)
			out.Title = fmt.Sprintf("%d of %d recorded events change outcome", changed, events)
		} else {
			out.Title = "No behaviour change"
		}
		b.WriteString(strings.TrimRight(rep.Markdown(), "\n"))
		b.WriteString("\n\n")
	} else {
		out.Title = "No live deployment to compare against"
	}
	for _, id := range noLive {
		fmt.Fprintf(&b, "- `%s`: no live deployment to compare against in `%s` (its recordings wait for one).\n", cell(id), cell(req.Env))
	}
	for _, id := range noRecordings {
		fmt.Fprintf(&b, "- `%s`: no recorded trigger calls in `%s` (recording is off for it, or nothing was recorded yet).\n", cell(id), cell(req.Env))
	}
	if len(noLive)+len(noRecordings) > 0 {
		b.WriteString("\n")
	}
	pol := req.Policy
	if pol == nil {
		if req.PolicyNote != "" {
			fmt.Fprintf(&b, "No policy applies: %s.\n", req.PolicyNote)
		}
		out.Summary = b.String()
		return out
	}
	rule := policyText(pol)
	if rep == nil {
		fmt.Fprintf(&b, "Policy (the base branch's kinde.json): %s; nothing was compared.\n", rule)
		out.Summary = b.String()
		return out
	}
	var over []string
	for _, id := range sortedKeys(out.Changed) {
		sh := out.Changed[id]
		switch {
		case pol.MaxDecisionsChangedPercent != nil && sh.Decisions > *pol.MaxDecisionsChangedPercent:
			over = append(over, fmt.Sprintf("`%s` (%s of events changed a decision)", cell(id), pct(sh.Decisions)))
		case pol.MaxChangedPercent != nil && sh.Changed > *pol.MaxChangedPercent:
			over = append(over, fmt.Sprintf("`%s` (%s of events changed)", cell(id), pct(sh.Changed)))
		}
	}
	if len(over) > 0 {
		out.Conclusion = Failure
		out.Title = "Policy exceeded: " + strings.Join(over, ", ")
		fmt.Fprintf(&b, "**Policy exceeded.** The base branch's kinde.json fails this check when %s; %s.\n", rule, strings.Join(over, ", "))
	} else {
		out.Conclusion = Success
		fmt.Fprintf(&b, "Within the policy: the base branch's kinde.json fails this check when %s.\n", rule)
	}
	out.Summary = b.String()
	return out
}

// policyText words a policy: "more than 1% of a workflow's recorded
// events change a decision, or more than 5% change at all".
func policyText(p *project.DiffPolicy) string {
	var parts []string
	if p.MaxDecisionsChangedPercent != nil {
		parts = append(parts, fmt.Sprintf("more than %s of a workflow's recorded events change an auth decision", pct(*p.MaxDecisionsChangedPercent)))
	}
	if p.MaxChangedPercent != nil {
		parts = append(parts, fmt.Sprintf("more than %s of a workflow's recorded events change outcome at all", pct(*p.MaxChangedPercent)))
	}
	return strings.Join(parts, ", or ")
}

func pct(p float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", p), "0"), ".0") + "%"
}

func sortedKeys(m map[string]Share) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func list(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = "`" + cell(id) + "`"
	}
	return strings.Join(q, ", ")
}

// cell makes text safe in a Markdown table cell or code span.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

// Candidate turns a checked build's valid workflows into replay inputs.
func Candidate(rep *project.Report) []invoke.Workflow {
	var out []invoke.Workflow
	for _, w := range rep.Workflows {
		if !w.Valid() || w.Settings.ID == "" || !workflow.ValidID(w.Settings.ID) {
			continue
		}
		out = append(out, invoke.Workflow{Settings: w.Settings, Code: w.Bundle.Code, SourceMap: w.Bundle.SourceMap})
	}
	return out
}
