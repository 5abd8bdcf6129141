package prdiff

import "github.com/flowgate/flowgate/internal/replay"

// Share is how much of a workflow's recorded traffic changed, in percent.
type Share struct {
	Events    int
	Changed   float64 // events whose Result changed in any way
	Decisions float64 // events whose auth decision changed
}

// shares reads the replay report's per-workflow shares.
func shares(rep *replay.Report) map[string]Share {
	out := map[string]Share{}
	for _, w := range rep.Workflows {
		s := Share{Events: w.Events, Changed: w.ChangedPercent}
		if w.Events > 0 {
			s.Decisions = float64(w.DecisionsChanged) * 100 / float64(w.Events)
		}
		out[w.WorkflowID] = s
	}
	return out
}

// changedEvents is how many of the report's events changed, of how many.
func changedEvents(rep *replay.Report) (changed, events int) {
	for _, w := range rep.Workflows {
		changed += w.Changed
		events += w.Events
	}
	return changed, events
}
