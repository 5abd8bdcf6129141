package project

import (
	"bytes"
	"encoding/json"
	"math"
)

// DiffPolicy is kinde.json's flowgate.behaviourDiff: when the behaviour
// diff of a pull request (its build replayed on recorded traffic against
// the live deployment) fails the "Behaviour diff" check run. Without it
// the check run is neutral: it informs, it never blocks a merge.
type DiffPolicy struct {
	// MaxChangedPercent: the check run fails when, for any workflow, more
	// than this share (0-100) of its recorded events changes outcome in
	// any way (a claim, a denial, the status). Nil: no such limit.
	MaxChangedPercent *float64 `json:"maxChangedPercent,omitempty"`
	// MaxDecisionsChangedPercent: the same, counting only events whose
	// auth decision changed (status, denial, MFA, plan, form errors).
	MaxDecisionsChangedPercent *float64 `json:"maxDecisionsChangedPercent,omitempty"`
}

// diffPolicyExample is what the messages show.
const diffPolicyExample = `{"flowgate": {"behaviourDiff": {"maxDecisionsChangedPercent": 1, "maxChangedPercent": 5}}}`

// parseDiffPolicy reads the value of kinde.json's "flowgate" key. A value
// it cannot use is refused whole (the problem says why): a policy that is
// half read would pass what its author meant to fail.
func parseDiffPolicy(raw []byte) (*DiffPolicy, string) {
	var fg map[string]json.RawMessage
	if json.Unmarshal(raw, &fg) != nil || fg == nil {
		return nil, `"flowgate" must be an object such as ` + diffPolicyExample
	}
	bd, ok := fg["behaviourDiff"]
	if !ok {
		return nil, ""
	}
	dec := json.NewDecoder(bytes.NewReader(bd))
	dec.DisallowUnknownFields()
	var p DiffPolicy
	if err := dec.Decode(&p); err != nil || bytes.TrimSpace(bd)[0] != '{' {
		return nil, `"flowgate.behaviourDiff" must be an object with "maxChangedPercent" and/or "maxDecisionsChangedPercent" (numbers from 0 to 100) and nothing else, such as ` + diffPolicyExample
	}
	if p.MaxChangedPercent == nil && p.MaxDecisionsChangedPercent == nil {
		return nil, `"flowgate.behaviourDiff" sets no limit: give "maxChangedPercent" and/or "maxDecisionsChangedPercent", such as ` + diffPolicyExample
	}
	for name, v := range map[string]*float64{"maxChangedPercent": p.MaxChangedPercent, "maxDecisionsChangedPercent": p.MaxDecisionsChangedPercent} {
		if v != nil && (math.IsNaN(*v) || *v < 0 || *v > 100) {
			return nil, `"flowgate.behaviourDiff.` + name + `" must be a number from 0 to 100: the share of a workflow's recorded events that may change before the pull request's "Behaviour diff" check fails (0: any change fails)`
		}
	}
	return &p, ""
}
