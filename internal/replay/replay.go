package replay

import (
	"cmp"
	"context"
	"math"
	goruntime "runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Input is what Run replays: the recorded events against two builds.
type Input struct {
	Candidate []invoke.Workflow // the change: a pull request's build, the local project
	Baseline  []invoke.Workflow // what runs now: the live deployments, a built bundle
	Events    []Recorded
	Env       map[string]bindings.EnvVar // variables both builds see; secret values never reach the report
	// MaxDiffs is how many diffs each workflow's report keeps (the first,
	// in event order); default DefaultMaxDiffs.
	MaxDiffs int
	// Concurrency is how many events run at once; default twice
	// GOMAXPROCS, so a supervisor's workers always have the next run waiting.
	Concurrency int
	// WallTime bounds each run (0 = the runner's default).
	WallTime time.Duration
}

// DefaultMaxDiffs is Input.MaxDiffs' default.
const DefaultMaxDiffs = 20

// Category is what kind of behaviour a diff changes.
type Category string

// The categories, in the order reports list them.
const (
	CatStatus       Category = "status"        // succeeded/failed/skipped, or the failure's error kind
	CatDenial       Category = "denial"        // auth.denied appears or vanishes, or its reason changes
	CatMFA          Category = "mfa"           // the MFA enforcement policy
	CatPlan         Category = "plan"          // plan selection or cancellation denied
	CatForm         Category = "form"          // form field errors (kinde.widget)
	CatClaimAdded   Category = "claim-added"   // a token claim only the candidate sets
	CatClaimRemoved Category = "claim-removed" // a token claim only the baseline sets
	CatClaimChanged Category = "claim-changed" // a token claim both set, to different values
	CatOther        Category = "other"         // SSO session policy, risk score
)

// Categories lists every Category in report order.
var Categories = []Category{CatStatus, CatDenial, CatMFA, CatPlan, CatForm, CatClaimAdded, CatClaimRemoved, CatClaimChanged, CatOther}

// decision reports whether a category is an auth decision (as opposed to
// what a token carries).
func (c Category) decision() bool {
	switch c {
	case CatStatus, CatDenial, CatMFA, CatPlan, CatForm:
		return true
	}
	return false
}

// Diff is one difference in one event's Result: at Path, the baseline
// gave Before and the candidate After ("" when absent). Values are
// compact JSON, truncated to MaxValueRunes.
type Diff struct {
	EventID  string   `json:"eventId"`
	Category Category `json:"category"`
	Path     string   `json:"path"`
	Before   string   `json:"before"`
	After    string   `json:"after"`
}

// Durations are a build's run times over a workflow's events, in ms.
type Durations struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// WorkflowReport is the diff of one workflow (events grouped by their
// recorded workflow id, or trigger when it has none).
type WorkflowReport struct {
	WorkflowID string `json:"workflowId"`
	Trigger    string `json:"trigger,omitempty"`
	Events     int    `json:"events"`
	// Changed is how many events' Results differ; DecisionsChanged how
	// many of them differ in a decision (status, denial, MFA, plan, form).
	Changed          int     `json:"changed"`
	DecisionsChanged int     `json:"decisionsChanged"`
	ChangedPercent   float64 `json:"changedPercent"` // Changed / Events × 100
	// Categories counts the diffs per category (every diff, not only
	// the ones kept in Diffs).
	Categories map[Category]int `json:"categories,omitempty"`
	Diffs      []Diff           `json:"diffs,omitempty"` // the first MaxDiffs, in event order
	// Failures counts each build's failed runs by error kind.
	CandidateFailures map[workflow.ErrorKind]int `json:"candidateFailures,omitempty"`
	BaselineFailures  map[workflow.ErrorKind]int `json:"baselineFailures,omitempty"`
	// Refused counts outbound requests the recording did not answer
	// (both builds together): the run saw them fail.
	Refused   int       `json:"refused,omitempty"`
	Candidate Durations `json:"candidateMs"`
	Baseline  Durations `json:"baselineMs"`
}

// Report is the behaviour diff of a replay.
type Report struct {
	Events    int              `json:"events"`
	Workflows []WorkflowReport `json:"workflows"` // sorted by WorkflowID
	// Unrouted counts events no workflow of either build handles (both
	// answered skipped); they are in their workflow's Events too.
	Unrouted int `json:"unrouted,omitempty"`
}

// Changed reports whether any event's Result differs.
func (r *Report) Changed() bool {
	for _, w := range r.Workflows {
		if w.Changed > 0 {
			return true
		}
	}
	return false
}

// NoWorkflowID groups events that name neither a workflow id nor a trigger.
const NoWorkflowID = "(no workflow id)"

// outcome is one event's replay.
type outcome struct {
	group, trigger string
	diffs          []Diff // at most maxDiffs
	counts         map[Category]int
	candKind       workflow.ErrorKind
	baseKind       workflow.ErrorKind
	candMs, baseMs float64
	refused        int
	unrouted       bool
}

// Run replays every event against both builds and compares their
// Results. Each run's outbound requests are answered only from the
// event's recorded Fetch; an unrecorded request is refused (the workflow
// sees it fail) and counted. A run that fails, times out or crashes its
// worker is a failure of that build with its error kind, never an error
// of Run. ctx cancelled: the remaining runs fail with kind timeout.
func Run(ctx context.Context, runner sandbox.Runner, in Input) *Report {
	maxDiffs := in.MaxDiffs
	if maxDiffs <= 0 {
		maxDiffs = DefaultMaxDiffs
	}
	conc := in.Concurrency
	if conc <= 0 {
		conc = 2 * goruntime.GOMAXPROCS(0)
	}
	events := slices.Clone(in.Events)
	slices.SortStableFunc(events, func(a, b Recorded) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	red := newRedactor(in.Env)
	outs := make([]outcome, len(events))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(conc, max(len(events), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i] = replayOne(ctx, runner, &in, &events[i], maxDiffs, red)
			}
		}()
	}
	for i := range events {
		next <- i
	}
	close(next)
	wg.Wait()
	return aggregate(outs, maxDiffs)
}

// replayOne runs one event on both builds and compares the Results.
func replayOne(ctx context.Context, runner sandbox.Runner, in *Input, ev *Recorded, maxDiffs int, red *redactor) outcome {
	group := cmp.Or(ev.WorkflowID, ev.Trigger, NoWorkflowID)
	cand, candRefused := runSide(ctx, runner, in, in.Candidate, ev)
	base, baseRefused := runSide(ctx, runner, in, in.Baseline, ev)
	o := outcome{group: group, trigger: ev.Trigger, refused: candRefused + baseRefused,
		candMs: cand.DurationMs, baseMs: base.DurationMs}
	if cand.Error != nil {
		o.candKind = cand.Error.Kind
	}
	if base.Error != nil {
		o.baseKind = base.Error.Kind
	}
	o.unrouted = cand.Status == workflow.StatusSkipped && base.Status == workflow.StatusSkipped
	o.counts = map[Category]int{}
	compare(base, cand, func(d Diff) {
		o.counts[d.Category]++
		if len(o.diffs) < maxDiffs {
			d.EventID = red.show(ev.ID, MaxValueRunes)
			d.Path = red.show(d.Path, MaxPathRunes)
			d.Before, d.After = red.show(d.Before, MaxValueRunes), red.show(d.After, MaxValueRunes)
			o.diffs = append(o.diffs, d)
		}
	})
	return o
}

// runSide runs ev on one build, answered only from its recording.
func runSide(ctx context.Context, runner sandbox.Runner, in *Input, ws []invoke.Workflow, ev *Recorded) (*workflow.Result, int) {
	req := invoke.Request{
		Workflows: ws,
		Event:     ev.Event,
		Env:       in.Env,
		Stubs:     ev.Fetch,
		WallTime:  in.WallTime,
		// A cache of its own per event: a JWT cached by one event must not
		// answer another's run.
		CacheScope: "replay\x00" + ev.ID,
	}
	if req.Stubs == nil {
		req.Stubs = []httpstub.Stub{} // never the network
	}
	// The recorded workflow id first, else the trigger.
	if ev.WorkflowID != "" && invoke.Pick(ws, "", ev.WorkflowID) != nil {
		req.WorkflowID = ev.WorkflowID
	} else {
		req.Trigger = ev.Trigger
	}
	if req.Trigger == "" && req.WorkflowID == "" {
		return workflow.Skipped(""), 0
	}
	resp := invoke.Run(ctx, runner, req)
	return resp.Result, len(resp.Unmatched)
}

// aggregate groups outcomes per workflow, in event order.
func aggregate(outs []outcome, maxDiffs int) *Report {
	rep := &Report{Events: len(outs)}
	byGroup := map[string]*WorkflowReport{}
	durs := map[string][2][]float64{}
	for i := range outs {
		o := &outs[i]
		w := byGroup[o.group]
		if w == nil {
			w = &WorkflowReport{WorkflowID: o.group, Trigger: o.trigger, Categories: map[Category]int{},
				CandidateFailures: map[workflow.ErrorKind]int{}, BaselineFailures: map[workflow.ErrorKind]int{}}
			byGroup[o.group] = w
		}
		w.Events++
		w.Refused += o.refused
		if o.unrouted {
			rep.Unrouted++
		}
		if o.candKind != "" {
			w.CandidateFailures[o.candKind]++
		}
		if o.baseKind != "" {
			w.BaselineFailures[o.baseKind]++
		}
		d := durs[o.group]
		d[0], d[1] = append(d[0], o.candMs), append(d[1], o.baseMs)
		durs[o.group] = d
		changed, decision := false, false
		for c, n := range o.counts {
			w.Categories[c] += n
			changed = changed || n > 0
			decision = decision || (n > 0 && c.decision())
		}
		if changed {
			w.Changed++
		}
		if decision {
			w.DecisionsChanged++
		}
		for _, df := range o.diffs {
			if len(w.Diffs) < maxDiffs {
				w.Diffs = append(w.Diffs, df)
			}
		}
	}
	for id, w := range byGroup {
		w.ChangedPercent = math.Round(float64(w.Changed)*10000/float64(w.Events)) / 100
		w.Candidate, w.Baseline = percentiles(durs[id][0]), percentiles(durs[id][1])
		if len(w.Categories) == 0 {
			w.Categories = nil
		}
		if len(w.CandidateFailures) == 0 {
			w.CandidateFailures = nil
		}
		if len(w.BaselineFailures) == 0 {
			w.BaselineFailures = nil
		}
		rep.Workflows = append(rep.Workflows, *w)
	}
	sort.Slice(rep.Workflows, func(i, j int) bool { return rep.Workflows[i].WorkflowID < rep.Workflows[j].WorkflowID })
	return rep
}

// percentiles are the p50 and p99 of ms (nearest rank), rounded to 0.01.
func percentiles(ms []float64) Durations {
	if len(ms) == 0 {
		return Durations{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return math.Round(s[max(i, 0)]*100) / 100
	}
	return Durations{P50: at(0.50), P99: at(0.99)}
}
