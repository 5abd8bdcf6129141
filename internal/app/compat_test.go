package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/testenv"
)

// TestKindeCorpusThroughService (issue 18): the Kinde-style corpus syncs
// through the service, kinde.mfa declared on four triggers that lack it
// included (warnings, not a failed sync), and its workflows answer the
// runtime API as on Kinde: the password policy written through
// globalThis.kinde sets its form error, in worker processes.
func TestKindeCorpusThroughService(t *testing.T) {
	t.Parallel()
	corpus := filepath.Join(testenv.Root(), "cmd", "flowgate", "testdata", "kinde-corpus")
	repo := testenv.CopyRepo(t, corpus, true)
	a := start(t, Config{DataDir: t.TempDir(), DevRepo: repo, Workers: 1})
	c := &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: a.runtimeToken, env: "production"}
	post := func(trigger, event string) (int, map[string]any) {
		ev, err := os.ReadFile(filepath.Join(repo, "events", event))
		if err != nil {
			t.Fatal(err)
		}
		return c.do("POST", "/api/v1/environments/"+c.env+"/triggers/"+trigger, c.runtimeBearer, ev)
	}
	eventually(t, "the corpus live", 90*time.Second, func() (bool, string) {
		code, res := post("user:new_password_provided", "short-password.json")
		return code == 200 && res["widget"] != nil, fmt.Sprintf("%d %v", code, res)
	})
	_, res := post("user:new_password_provided", "short-password.json")
	w, _ := res["widget"].(map[string]any)
	fields, _ := w["invalidFormFields"].(map[string]any)
	if fields["p_first_password"] != "Use at least 12 characters" {
		t.Fatalf("the policy through globalThis.kinde was bypassed: %v", res)
	}
	if code, res := post("m2m:token_generation", "m2m.json"); code != 200 || res["status"] != "succeeded" {
		t.Fatalf("m2m with kinde.mfa declared: %d %v", code, res)
	}

	// The sync that deployed it succeeded with the four kinde.mfa warnings.
	_, syncs := c.admin("GET", "/syncs", nil)
	list, _ := syncs["syncs"].([]any)
	if len(list) == 0 {
		t.Fatal("no sync recorded")
	}
	s0, _ := list[0].(map[string]any)
	log, _ := s0["log"].([]any)
	mfa := 0
	for _, e := range log {
		m, _ := e.(map[string]any)
		if m["severity"] == "error" {
			t.Errorf("sync error: %v", m)
		}
		if m["rule"] == "binding-not-allowed" && m["severity"] == "warning" {
			mfa++
		}
	}
	if mfa != 4 || s0["status"] == "failed" {
		t.Errorf("sync %v with %d binding-not-allowed warnings, want 4: %v", s0["status"], mfa, log)
	}
}
