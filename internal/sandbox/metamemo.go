package sandbox

import (
	"maps"
	"slices"
	"sync"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// metaMemo remembers the JSON of the last few runMetas (settings,
// variables, allow-list): they are the same on every call of a workflow in
// an environment, and encoding them was the supervisor's largest per-call
// allocation. A hit is decided by value (the memo keeps its own copies),
// so a caller that changes its maps between calls is never sent stale
// state.
type metaMemo struct {
	mu      sync.Mutex
	entries [metaMemoSize]metaEntry
	next    int
}

const metaMemoSize = 16

type metaEntry struct {
	settings workflow.Settings
	env      map[string]bindings.EnvVar
	allow    []string
	json     []byte // nil: empty slot
}

// encode is encodeMeta(req), from the memo when an entry holds the same
// values. Requests with stubs (flowgate test) are always encoded.
func (m *metaMemo) encode(req *Request) ([]byte, error) {
	if req.Stubs != nil {
		return encodeMeta(req)
	}
	m.mu.Lock()
	for i := range m.entries {
		e := &m.entries[i]
		if e.json != nil && e.matches(req) {
			b := e.json
			m.mu.Unlock()
			return b, nil
		}
	}
	m.mu.Unlock()
	b, err := encodeMeta(req)
	if err != nil {
		return nil, err
	}
	s := req.Settings
	s.Bindings = maps.Clone(s.Bindings)
	e := metaEntry{settings: s, env: maps.Clone(req.Env), allow: slices.Clone(req.AllowHosts), json: b}
	m.mu.Lock()
	m.entries[m.next] = e
	m.next = (m.next + 1) % metaMemoSize
	m.mu.Unlock()
	return b, nil
}

func (e *metaEntry) matches(req *Request) bool {
	s := req.Settings
	return s.ID == e.settings.ID && s.Name == e.settings.Name && s.Trigger == e.settings.Trigger &&
		s.FailurePolicy == e.settings.FailurePolicy && (s.Bindings == nil) == (e.settings.Bindings == nil) &&
		maps.Equal(s.Bindings, e.settings.Bindings) && (req.Env == nil) == (e.env == nil) && maps.Equal(req.Env, e.env) &&
		(req.AllowHosts == nil) == (e.allow == nil) && slices.Equal(req.AllowHosts, e.allow)
}
