// Package recording decides what of the service's trigger traffic is
// recorded for behaviour diffs, and makes it safe to store: passwords and
// secret values removed in every spelling the runtime's redaction knows,
// personal data hashed or dropped by a per-environment rule
// (docs/recording.md). It does no I/O: the service samples and queues,
// internal/deploy seals and stores.
package recording

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Bounds of the settings.
const (
	DefaultSampleRate     = 0.1
	DefaultMaxPerWorkflow = 500
	DefaultRetentionDays  = 14

	MaxPerWorkflowLimit = 10000
	MaxRetentionDays    = 90
	MaxWorkflows        = 200
	MaxDropFields       = 100
)

// Settings say what an environment records. The zero value records
// nothing: recording is off until enabled, and then only for the listed
// workflows.
type Settings struct {
	Enabled        bool     `json:"enabled"`
	Workflows      []string `json:"workflows"`      // workflow ids recorded; none: nothing is
	SampleRate     float64  `json:"sampleRate"`     // share of calls recorded, (0, 1]
	MaxPerWorkflow int      `json:"maxPerWorkflow"` // recordings kept per workflow (the oldest go first)
	RetentionDays  int      `json:"retentionDays"`  // recordings older than this are deleted
	PII            PIIRule  `json:"pii"`
}

// Defaults returns settings with every unset field at its default.
func (s Settings) Defaults() Settings {
	if s.SampleRate == 0 {
		s.SampleRate = DefaultSampleRate
	}
	if s.MaxPerWorkflow == 0 {
		s.MaxPerWorkflow = DefaultMaxPerWorkflow
	}
	if s.RetentionDays == 0 {
		s.RetentionDays = DefaultRetentionDays
	}
	if s.Workflows == nil {
		s.Workflows = []string{}
	}
	s.PII = s.PII.Defaults()
	return s
}

// Validate reports the first thing wrong with (defaulted) settings, worded
// for the API caller.
func (s Settings) Validate() error {
	if !(s.SampleRate > 0 && s.SampleRate <= 1) { // also refuses NaN
		return fmt.Errorf("sampleRate must be more than 0 and at most 1, not %v", s.SampleRate)
	}
	if s.MaxPerWorkflow < 1 || s.MaxPerWorkflow > MaxPerWorkflowLimit {
		return fmt.Errorf("maxPerWorkflow must be 1 to %d, not %d", MaxPerWorkflowLimit, s.MaxPerWorkflow)
	}
	if s.RetentionDays < 1 || s.RetentionDays > MaxRetentionDays {
		return fmt.Errorf("retentionDays must be 1 to %d, not %d", MaxRetentionDays, s.RetentionDays)
	}
	if len(s.Workflows) > MaxWorkflows {
		return fmt.Errorf("at most %d workflows may be recorded, not %d", MaxWorkflows, len(s.Workflows))
	}
	for _, w := range s.Workflows {
		if !validID(w) {
			return fmt.Errorf("workflow id %q: ids are 1-128 letters, digits, '-', '_' or '.'", trunc(w, 40))
		}
	}
	return s.PII.Validate()
}

// Records reports whether calls of workflowID are recorded (before
// sampling).
func (s *Settings) Records(workflowID string) bool {
	return s != nil && s.Enabled && slices.Contains(s.Workflows, workflowID)
}

// Sampled reports whether a call with the uniform random draw u in [0, 1)
// is recorded.
func (s *Settings) Sampled(u float64) bool { return u < s.SampleRate }

// Parse reads stored settings JSON (defaults filled in).
func Parse(b []byte) (Settings, error) {
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("recording settings: %w", err)
	}
	return s.Defaults(), nil
}

// ValidWorkflowID reports whether s can be a workflow id in the settings.
func ValidWorkflowID(s string) bool { return validID(s) }

func validID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return false
		}
	}
	return true
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
