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
	// than this share (0-100) of its recorded events changes outcome.
	// 0 fails on any change.
	MaxChangedPercent float64 `json:"maxChangedPercent"`
}

// diffPolicyExample is what the messages show.
const diffPolicyExample = `{"flowgate": {"behaviourDiff": {"maxChangedPercent": 5}}}`

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
	var v struct {
		MaxChangedPercent *float64 `json:"maxChangedPercent"`
	}
	if err := dec.Decode(&v); err != nil || bytes.TrimSpace(bd)[0] != '{' {
		return nil, `"flowgate.behaviourDiff" must be an object with one key, "maxChangedPercent" (a number from 0 to 100), such as ` + diffPolicyExample
	}
	p := v.MaxChangedPercent
	if p == nil || math.IsNaN(*p) || *p < 0 || *p > 100 {
		return nil, `"flowgate.behaviourDiff.maxChangedPercent" must be a number from 0 to 100: the share of a workflow's recorded events whose outcome may change before the pull request's "Behaviour diff" check fails (0: any change fails)`
	}
	return &DiffPolicy{MaxChangedPercent: *p}, ""
}
