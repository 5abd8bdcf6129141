package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

func paths(v any, prefix string, out *[]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			p := prefix + "\x00" + k
			*out = append(*out, p)
			paths(x, p, out)
		}
	}
}

func mutate(v any, path []string, val any, del bool) {
	m := v.(map[string]any)
	for _, k := range path[:len(path)-1] {
		m = m[k].(map[string]any)
	}
	if del {
		delete(m, path[len(path)-1])
	} else {
		m[path[len(path)-1]] = val
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
		var base any
		json.Unmarshal(raw, &base)
		var ps []string
		paths(base, "", &ps)
		for _, p := range ps {
			parts := strings.Split(p, "\x00")[1:]
			for i := -1; i < len(vals); i++ {
				var cp any
				json.Unmarshal(raw, &cp)
				if i < 0 {
					mutate(cp, parts, nil, true)
				} else {
					mutate(cp, parts, vals[i], false)
				}
				b, _ := json.Marshal(cp)
				n++
				func() {
					defer func() {
						if r := recover(); r != nil {
							panics++
							if panics < 6 {
								t.Errorf("HOLE: panic on %s with %s=%v: %v", ev, strings.Join(parts, "."), i, r)
							}
						}
					}()
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					h.app.Handle(ctx, DeliveryArgs{ID: fmt.Sprint("m", n), Event: ev, Payload: b})
				}()
			}
		}
	}
	t.Logf("%d mutated deliveries, %d panics", n, panics)
}
