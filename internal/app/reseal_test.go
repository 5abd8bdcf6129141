package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Master-key rotation through the running service: with "new,old" the
// re-seal job (started and watched through the management API) moves every
// secret to the new key, after which the old key can go. A secret that no
// configured key opens fails only the invocations that read it, with a
// clear error — not every trigger of the environment.
func TestMasterKeyRotationThroughTheService(t *testing.T) {
	t.Parallel()
	dataDir, repo := t.TempDir(), devRepo(t)
	key := func(n byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{n}, 32)) }
	serve := func(master string) (*running, *client) {
		t.Helper()
		a := start(t, Config{DataDir: dataDir, DevRepo: repo, Isolation: "inprocess", MasterKey: master})
		return a, &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: a.runtimeToken, env: "production"}
	}
	put := func(c *client, name, value string, secret bool) {
		t.Helper()
		if code, res := c.admin("PUT", "/variables/"+name, map[string]any{"value": value, "isSecret": secret}); code != 200 {
			t.Fatalf("put %s: %d %v", name, code, res)
		}
	}

	a, c := serve(key(1))
	eventually(t, "first sync live", 30*time.Second, livePlan(c, "free"))
	put(c, "DEFAULT_PLAN", "gold", true)
	put(c, "UNUSED_SECRET", "sk_unused", true)
	// The workflow puts the secret in a claim: Flowgate redacts it there,
	// which still shows the secret was read.
	const redactedSecret = "***"
	eventually(t, "secret plan", 10*time.Second, livePlan(c, redactedSecret))
	a.stop()

	a, c = serve(key(2) + "," + key(1))
	eventually(t, "old secrets open during the rotation", 30*time.Second, livePlan(c, redactedSecret))
	if code, res := c.do("GET", "/api/v1/secrets/reseal", c.bearer, nil); code != 404 {
		t.Fatalf("no run yet: %d %v", code, res)
	}
	code, res := c.do("POST", "/api/v1/secrets/reseal", c.bearer, nil)
	id, _ := res["id"].(string)
	if code != 202 || id == "" {
		t.Fatalf("start re-seal: %d %v", code, res)
	}
	if code, _ := c.do("POST", "/api/v1/secrets/reseal", "wrong", nil); code != 401 {
		t.Fatalf("re-seal without the admin token: %d", code)
	}
	eventually(t, "re-seal finished", 30*time.Second, func() (bool, string) {
		code, res := c.do("GET", "/api/v1/secrets/reseal/"+id, c.bearer, nil)
		return code == 200 && res["state"] == "succeeded" && res["resealed"] == float64(2) && res["scanned"] == float64(2), fmt.Sprintf("%d %v", code, res)
	})
	a.stop()

	a, c = serve(key(2))
	eventually(t, "secrets open with the new key alone", 30*time.Second, livePlan(c, redactedSecret))
	a.stop()

	// Every key replaced before a re-seal: both secrets are unreadable.
	a, c = serve(key(3))
	eventually(t, "the reader fails with a clear error", 30*time.Second, func() (bool, string) {
		code, res := c.trigger()
		e, _ := res["error"].(map[string]any)
		msg, _ := e["message"].(string)
		return code == 200 && res["status"] == "failed" && strings.Contains(msg, "DEFAULT_PLAN cannot be decrypted"), fmt.Sprintf("%d %v", code, res)
	})
	put(c, "DEFAULT_PLAN", "silver", false)
	eventually(t, "an unread broken secret breaks nothing", 10*time.Second, livePlan(c, "silver"))
	if strings.Contains(a.out.String(), "sk_unused") || strings.Contains(a.out.String(), "gold") {
		t.Fatal("a secret value reached the log")
	}
	a.stop()
}
