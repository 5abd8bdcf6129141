package app

import (
	"testing"
	"time"
)

// TestEnvironmentNameWithDot: an environment named with a dot syncs, and
// then both APIs answer for it (the sync accepted such names while the
// HTTP APIs refused them with 400).
func TestEnvironmentNameWithDot(t *testing.T) {
	t.Parallel()
	const env = "staging.eu"
	a := start(t, Config{DataDir: t.TempDir(), DevRepo: devRepo(t), Environment: env, Isolation: "inprocess"})
	c := &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: a.runtimeToken, env: env}
	if c.runtimeBearer == "" {
		t.Fatal("no runtime token for " + env)
	}
	eventually(t, "the dev repo's sync live in "+env, 30*time.Second, livePlan(c, "free"))
	for _, path := range []string{"", "/workflows", "/workflows/addClaims", "/syncs", "/variables", "/logs"} {
		if code, res := c.admin("GET", path, nil); code != 200 {
			t.Errorf("GET /api/v1/environments/%s%s: %d %v", env, path, code, res)
		}
	}
	if code, res := c.do("GET", "/api/v1/environments", c.bearer, nil); code != 200 {
		t.Fatalf("list environments: %d %v", code, res)
	} else if envs, _ := res["environments"].([]any); !hasEnv(envs, env) {
		t.Errorf("list environments: %s missing from %v", env, res)
	}
	for _, bad := range []string{"..", "a%2Fb", "a%20b"} {
		if code, _ := c.do("GET", "/api/v1/environments/"+bad+"/workflows", c.bearer, nil); code == 200 {
			t.Errorf("environment %q answered 200", bad)
		}
	}
}

func hasEnv(envs []any, name string) bool {
	for _, e := range envs {
		if m, _ := e.(map[string]any); m["name"] == name {
			return true
		}
	}
	return false
}
