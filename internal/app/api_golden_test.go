package app

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestManagementAPIGolden pins the JSON every management endpoint answers
// (field names, which fields are present, their types): the HTTP
// contract, whatever the Go types behind it. Values that differ from run
// to run (ids, times, digests, tokens) are replaced by placeholders.
func TestManagementAPIGolden(t *testing.T) {
	t.Parallel()
	a := start(t, Config{DataDir: t.TempDir(), DevRepo: devRepo(t), Isolation: "inprocess"})
	c := &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: a.runtimeToken, env: "production"}
	eventually(t, "first sync live", 30*time.Second, livePlan(c, "free"))
	dep := liveDeployment(c)
	_, syncs := c.admin("GET", "/syncs", nil)
	syncID := syncs["syncs"].([]any)[0].(map[string]any)["id"].(string)
	eventually(t, "runtime logs written", 30*time.Second, func() (bool, string) {
		_, res := c.admin("GET", "/logs", nil)
		logs, _ := res["logs"].([]any)
		return len(logs) >= 2, fmt.Sprint(res)
	})

	var out strings.Builder
	call := func(method, path string, body string) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, a.URL()+path, rd)
		req.Header.Set("Authorization", "Bearer "+a.AdminToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(&out, "### %s %s %s\n%d\n%s\n", method, normalizePath(path, dep, syncID), body, resp.StatusCode, normalizeJSON(t, data))
		var m map[string]any
		json.Unmarshal(data, &m)
		return m
	}
	const env = "/api/v1/environments/production"
	call("GET", "/api/v1/environments", "")
	call("GET", env, "")
	call("PATCH", env, `{"previewMode": false}`)
	call("GET", env+"/workflows", "")
	call("GET", env+"/workflows/addClaims", "")
	call("GET", env+"/workflows/nope", "")
	call("GET", env+"/workflows/addClaims/deployments", "")
	call("GET", env+"/deployments/"+dep, "")
	call("POST", env+"/workflows/addClaims/deployments/"+dep+"/make-live", "")
	call("POST", env+"/workflows/addClaims/rollback", "")
	call("GET", env+"/workflows/addClaims/flips", "")
	call("GET", env+"/workflows/addClaims/encryption-keys", "")
	key := call("POST", env+"/workflows/addClaims/encryption-keys", "")
	call("GET", env+"/workflows/addClaims/encryption-keys", "")
	call("POST", env+"/workflows/addClaims/encryption-keys/"+fmt.Sprint(key["id"])+"/activate", "")
	call("PUT", env+"/variables/DEFAULT_PLAN", `{"value": "pro", "isSecret": false}`)
	call("PUT", env+"/variables/API_KEY", `{"value": "sk_hunter2", "isSecret": true}`)
	call("GET", env+"/variables", "")
	call("GET", env+"/variables/API_KEY", "")
	call("DELETE", env+"/variables/DEFAULT_PLAN", "")
	call("GET", env+"/deployments/"+dep+"/preview", "")
	call("GET", env+"/syncs", "")
	call("GET", env+"/syncs/"+syncID, "")
	call("GET", env+"/logs?limit=2", "")
	call("GET", env+"/logs?kind=sync", "")
	call("GET", env+"/logs?kind=build", "")
	call("GET", env+"/github-repository", "")
	run := call("POST", "/api/v1/secrets/reseal", "")
	eventually(t, "re-seal finished", 30*time.Second, func() (bool, string) {
		_, res := c.do("GET", "/api/v1/secrets/reseal/"+fmt.Sprint(run["id"]), c.bearer, nil)
		return res["finishedAt"] != nil, fmt.Sprint(res)
	})
	call("GET", "/api/v1/secrets/reseal/"+fmt.Sprint(run["id"]), "")
	// A broken commit: a failed sync whose log has located diagnostics.
	edit(t, a.cfg.DevRepo, `export default async function`, `export default async functio n`)
	eventually(t, "broken sync recorded", 30*time.Second, func() (bool, string) {
		_, res := c.admin("GET", "/syncs?limit=1", nil)
		syncs, _ := res["syncs"].([]any)
		if len(syncs) == 0 {
			return false, "no syncs"
		}
		s0, _ := syncs[0].(map[string]any)
		return s0["status"] == "failed", fmt.Sprint(s0["status"])
	})
	call("GET", env+"/syncs?limit=1", "")
	call("GET", env+"/logs?kind=build&limit=1", "")
	call("POST", env+"/workflows/addClaims/deactivate", "")
	call("DELETE", env+"/workflows/addClaims", "")
	call("POST", env+"/runtime-token", "")

	path := filepath.Join("testdata", "management-api.golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if string(want) != out.String() {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, out.String())
	}
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`), "<time>"},
	{regexp.MustCompile(`\b(dep|sync|key|reseal|inv)_[0-9a-zA-Z]+`), "<$1>"},
	{regexp.MustCompile(`\bdev-[0-9a-f]+`), "<commit>"},
	{regexp.MustCompile(`^dev:.*`), "dev:<dir>"},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<sha256>"},
	{regexp.MustCompile(`\b[0-9a-f]{40}\b`), "<sha1>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?ms\b`), "<ms>"},
}

// secretFields hold values made afresh each run.
var secretFields = map[string]bool{"password": true, "runtimeToken": true, "key": true}

// numberFields hold figures that depend on the machine.
var numberFields = map[string]bool{"durationMs": true, "seq": true}

func normalizePath(p, dep, syncID string) string {
	p = strings.ReplaceAll(p, dep, "<dep>")
	p = strings.ReplaceAll(p, syncID, "<sync>")
	return volatile[1].re.ReplaceAllString(p, "<$1>")
}

// normalizeJSON re-encodes body (keys sorted, volatile values replaced),
// or returns it as it is when it is not JSON.
func normalizeJSON(t *testing.T, body []byte) string {
	t.Helper()
	if len(bytes.TrimSpace(body)) == 0 {
		return "(empty)"
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body)
	}
	v = normalizeValue("", v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func normalizeValue(field string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeValue(k, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeValue(field, e)
		}
		return x
	case string:
		if secretFields[field] && x != "" {
			return "<secret>"
		}
		for _, r := range volatile {
			x = r.re.ReplaceAllString(x, r.with)
		}
		return x
	case float64:
		if numberFields[field] {
			return "<number>"
		}
	}
	return v
}
