// Package replay runs recorded trigger calls against two builds of a
// workflow (a candidate and a baseline, usually the live deployment) and
// reports how the candidate's Results differ: the behaviour diff a pull
// request's check run shows and `flowgate test --replay` prints.
package replay

import (
	"encoding/json"
	"time"

	"github.com/flowgate/flowgate/internal/httpstub"
)

// Recorded is one recorded trigger call: the event a workflow was called
// with, already redacted for storage (no password, no secret value), and
// what each of its outbound requests (kinde.fetch, kinde.secureFetch, the
// M2M token) was answered, so a replay needs no network.
//
// It is the interchange format: the service stores it (sealed), exports it
// as JSON Lines, and `flowgate test --replay DIR` reads it back (one object
// per *.json file, or one per line of a *.jsonl file).
type Recorded struct {
	ID         string          `json:"id"`
	WorkflowID string          `json:"workflowId"`
	Trigger    string          `json:"trigger"`
	At         time.Time       `json:"at"`
	Event      json.RawMessage `json:"event"`
	Fetch      []httpstub.Stub `json:"fetch,omitempty"`
}
