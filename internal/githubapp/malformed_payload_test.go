package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
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
	var fields [][]string
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				p := append(slices.Clip(path), k)
				fields = append(fields, p)
				walk(x, p)
			}
		}
	}
	walk(root, nil)
	for _, path := range fields {
		for i := -1; i < len(vals); i++ {
			var cp any
			json.Unmarshal(raw, &cp)
			m := cp.(map[string]any)
			for _, k := range path[:len(path)-1] {
				m = m[k].(map[string]any)
			}
			if last := path[len(path)-1]; i < 0 {
				delete(m, last)
			} else {
				m[last] = vals[i]
			}
			b, _ := json.Marshal(cp)
			fn(fmt.Sprintf("%s=%d", strings.Join(path, "."), i), b)
		}
	}
}

func TestAttackPayloadPanics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.SetPermission(testRepo, "wanda", "write")
	twoLive(t, h)
	evs := map[string][]byte{
		"push":                      h.push(githubtest.SHA("zz"), []string{wfPath}),
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
