package prdiff

import "github.com/flowgate/flowgate/internal/replay"

// changedPercents reads the replay report's per-workflow share of
// recorded events whose outcome changed.
func changedPercents(rep *replay.Report) map[string]float64 {
	out := map[string]float64{}
	for _, w := range rep.Workflows {
		out[w.WorkflowID] = w.ChangedPercent
	}
	return out
}
