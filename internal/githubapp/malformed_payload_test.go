package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// mutations calls fn with every variant of a JSON object payload that
// has one field, at any depth, removed or replaced by one of vals; field
// names it, dotted, with "=" and the value's index (-1: removed).
func mutations(raw []byte, vals []any, fn func(field string, payload []byte)) {
	var root any
	json.Unmarshal(raw, &root)
	// Each variant is the one document changed in place, marshalled, and
	// changed back.
	var walk func(m map[string]any, path []string)
	walk = func(m map[string]any, path []string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p := append(slices.Clip(path), k)
			old := m[k]
			for i := -1; i < len(vals); i++ {
				if i < 0 {
					delete(m, k)
				} else {
					m[k] = vals[i]
				}
				b, _ := json.Marshal(root)
				m[k] = old
				fn(fmt.Sprintf("%s=%d", strings.Join(p, "."), i), b)
			}
			if sub, ok := old.(map[string]any); ok {
				walk(sub, p)
			}
		}
	}
	if m, ok := root.(map[string]any); ok {
		walk(m, nil)
	}
}

func TestAttackPayloadPanics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.SetPermission(testRepo, "wanda", "write")
	twoLive(t, h)
	// A commit the stand-in serves: a push of it syncs once, and the
	// mutated pushes of the same commit find that sync.
	_, push := h.commit("zz", starter("zz"))
	evs := map[string][]byte{
		"push":                      push,
		"issue_comment":             h.comment("created", "/rollback addClaims", "wanda", "User", 5),
		"pull_request":              h.pr("opened", githubtest.SHA("zzpr"), "mallory/flows"),
		"check_run":                 githubtest.Webhook(t, "check_run", "requested_action", map[string]any{"check_run.name": CheckBuild, "requested_action.identifier": "make-live"}),
		"check_suite":               githubtest.Webhook(t, "check_suite", "rerequested", nil),
		"installation":              githubtest.Webhook(t, "installation", "deleted", nil),
		"installation_repositories": githubtest.Webhook(t, "installation_repositories", "removed", nil),
	}
	vals := []any{nil, "x", 1e308, -1, []any{}, map[string]any{}, true, strings.Repeat("é", 3)}
	n, panics := 0, 0
	for ev, raw := range evs {
		mutations(raw, vals, func(field string, b []byte) {
			n++
			defer func() {
				if r := recover(); r != nil {
					panics++
					if panics < 6 {
						t.Errorf("HOLE: panic on %s with %s: %v", ev, field, r)
					}
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			h.app.Handle(ctx, DeliveryArgs{ID: fmt.Sprint("m", n), Event: ev, Payload: b})
		})
	}
	t.Logf("%d mutated deliveries, %d panics", n, panics)
}
