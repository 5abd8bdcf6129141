package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/builder"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/store/storetest"
	"github.com/flowgate/flowgate/internal/testenv"
)

func TestMain(m *testing.M) {
	sandbox.MaybeWorker() // the supervisor re-executes this test binary as its workers
	builder.MaybeBuilder()
	// Each test runs a service and waits on it: 47 s at GOMAXPROCS=2 tests
	// at a time, 24 s at 8, for the same CPU.
	testenv.WaitingParallel(8)
	// The host environment the tests read, set before any runs so that
	// those tests can run in parallel (t.Setenv cannot): a secret no
	// workflow may see, and MinIO's keys for the AWS SDK's default chain.
	os.Setenv(hostSecretVar, hostSecret)
	if k := os.Getenv("FLOWGATE_TEST_MINIO_ACCESS_KEY"); k != "" {
		os.Setenv("AWS_ACCESS_KEY_ID", k)
		os.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("FLOWGATE_TEST_MINIO_SECRET_KEY"))
	}
	os.Exit(m.Run())
}

// running is an app serving in the background of a test.
type running struct {
	*App
	stop func()
	out  *testenv.Buffer
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.NPMRegistry == "" {
		cfg.NPMRegistry, _ = testenv.NPMRegistry(t)
	}
	out := &testenv.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, nil, out)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.started:
	case err := <-done:
		cancel()
		t.Fatalf("app stopped at once: %v", err)
	}
	r := &running{App: a, out: out}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("app stopped with %v", err)
			}
		})
	}
	t.Cleanup(r.stop)
	return r
}

// devRepo copies the starter example into a temporary directory.
func devRepo(t *testing.T) string {
	t.Helper()
	return testenv.CopyRepo(t, filepath.Join(testenv.Root(), "examples", "starter"), false)
}

// contextWithCancel and quietLogger keep benchmark output to the figures.
func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

const workflowFile = "kindeSrc/environment/workflows/tokens/addClaimsWorkflow.ts"

// edit rewrites the starter workflow with a different plan default.
func edit(t *testing.T, repo, from, to string) {
	t.Helper()
	p := filepath.Join(repo, workflowFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), from, to, 1)
	if s == string(b) {
		t.Fatalf("%q not found in the workflow", from)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

type client struct {
	t             *testing.T
	base, bearer  string
	runtimeBearer string
	env           string
}

func (c *client) do(method, path, bearer string, body any, hdr ...string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(data, &out)
	if out == nil {
		out = map[string]any{"_raw": string(data)}
	}
	return resp.StatusCode, out
}

func (c *client) admin(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	return c.do(method, "/api/v1/environments/"+c.env+path, c.bearer, body)
}

func (c *client) trigger(hdr ...string) (int, map[string]any) {
	c.t.Helper()
	return c.triggerAt("", hdr...)
}

func (c *client) triggerAt(query string, hdr ...string) (int, map[string]any) {
	c.t.Helper()
	ev, err := os.ReadFile(filepath.Join(testenv.Root(), "examples", "starter", "events", "tokens.json"))
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do("POST", "/api/v1/environments/"+c.env+"/triggers/user:tokens_generation"+query, c.runtimeBearer, ev, hdr...)
}

func claim(res map[string]any, name string) any {
	at, _ := res["accessToken"].(map[string]any)
	cc, _ := at["customClaims"].(map[string]any)
	return cc[name]
}

// eventually polls f until it holds (bounded), failing with what it last saw.
func eventually(t *testing.T, what string, limit time.Duration, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		ok, seen := f()
		if ok {
			return
		}
		last = seen
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; last seen: %s", what, limit, last)
}

func livePlan(c *client, want string) func() (bool, string) {
	return func() (bool, string) {
		code, res := c.trigger()
		return code == 200 && claim(res, "plan") == want, fmt.Sprintf("%d %v", code, res)
	}
}

func liveDeployment(c *client) string {
	_, wf := c.admin("GET", "/workflows/addClaims", nil)
	s, _ := wf["liveDeploymentId"].(string)
	return s
}

func TestControlPlane(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		dataDir := t.TempDir()
		repo := devRepo(t)
		cfg := Config{DataDir: dataDir, DatabaseURL: b.NewURL(t), DevRepo: repo, Isolation: "inprocess"}
		a := start(t, cfg)
		c := &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: a.runtimeToken, env: "production"}

		// The first sync goes live by itself (preview mode is off by default).
		eventually(t, "first sync live", 30*time.Second, livePlan(c, "free"))
		first := liveDeployment(c)

		// Refusals: wrong tokens, bad events, unknown triggers.
		if code, _ := c.do("POST", "/api/v1/environments/production/triggers/user:tokens_generation", "wrong", []byte(`{}`)); code != 401 {
			t.Errorf("wrong runtime token: %d", code)
		}
		if code, _ := c.do("GET", "/api/v1/environments/production/workflows", c.runtimeBearer, nil); code != 401 {
			t.Errorf("runtime token on the management API: %d", code)
		}
		if code, res := c.do("POST", "/api/v1/environments/production/triggers/user:tokens_generation", c.runtimeBearer, []byte(`{"a":`)); code != 400 {
			t.Errorf("broken event: %d %v", code, res)
		}
		if code, _ := c.do("POST", "/api/v1/environments/production/triggers/user:nope", c.runtimeBearer, []byte(`{}`)); code != 404 {
			t.Errorf("unknown trigger: %d", code)
		}
		if code, res := c.do("POST", "/api/v1/environments/production/triggers/user:new_password_provided", c.runtimeBearer, []byte(`{}`)); code != 200 || res["status"] != "skipped" {
			t.Errorf("trigger with nothing live: %d %v", code, res)
		}

		// Variables: a plain one reaches the workflow; a secret one is never read back.
		if code, res := c.admin("PUT", "/variables/DEFAULT_PLAN", map[string]any{"value": "pro", "isSecret": false}); code != 200 || res["value"] != "pro" {
			t.Fatalf("put variable: %d %v", code, res)
		}
		eventually(t, "variable reaches the workflow", 5*time.Second, livePlan(c, "pro"))
		code, res := c.admin("PUT", "/variables/API_KEY", map[string]any{"value": "sk_live_hunter2", "isSecret": true})
		if code != 200 {
			t.Fatalf("put secret: %d %v", code, res)
		}
		for _, path := range []string{"/variables/API_KEY", "/variables"} {
			_, res := c.admin("GET", path, nil)
			if j, _ := json.Marshal(res); strings.Contains(string(j), "hunter2") {
				t.Fatalf("GET %s shows the secret: %s", path, j)
			}
		}

		// A new commit goes live by itself.
		edit(t, repo, `?? "free"`, `?? "gold"`)
		c.admin("DELETE", "/variables/DEFAULT_PLAN", nil)
		eventually(t, "edited workflow live", 30*time.Second, livePlan(c, "gold"))
		second := liveDeployment(c)
		if second == first {
			t.Fatal("the live deployment did not change")
		}

		// A broken commit changes nothing live and records a failed sync.
		edit(t, repo, `export default async function`, `export default async functio n`)
		eventually(t, "broken sync recorded", 30*time.Second, func() (bool, string) {
			_, res := c.admin("GET", "/syncs", nil)
			syncs, _ := res["syncs"].([]any)
			if len(syncs) == 0 {
				return false, "no syncs"
			}
			s0, _ := syncs[0].(map[string]any)
			return s0["status"] == "failed", fmt.Sprint(s0["status"])
		})
		if code, res := c.trigger(); code != 200 || claim(res, "plan") != "gold" {
			t.Fatalf("after a broken commit: %d %v", code, res)
		}
		edit(t, repo, `export default async functio n`, `export default async function`)

		// Rollback flips back to the previous live deployment.
		if code, res := c.admin("POST", "/workflows/addClaims/rollback", nil); code != 200 || res["id"] != first {
			t.Fatalf("rollback: %d %v (want %s)", code, res, first)
		}
		eventually(t, "rolled back", 5*time.Second, livePlan(c, "free"))

		// Preview mode: a new commit waits; its preview runs with its password.
		if code, res := c.admin("PATCH", "", map[string]any{"previewMode": true}); code != 200 || res["previewMode"] != true {
			t.Fatalf("preview mode: %d %v", code, res)
		}
		edit(t, repo, `?? "gold"`, `?? "platinum"`)
		var draft string
		eventually(t, "preview deployment", 30*time.Second, func() (bool, string) {
			_, res := c.admin("GET", "/workflows/addClaims/deployments", nil)
			ds, _ := res["deployments"].([]any)
			if len(ds) == 0 {
				return false, "none"
			}
			d0, _ := ds[0].(map[string]any)
			draft, _ = d0["id"].(string)
			st, _ := d0["status"].(string)
			return st == "Deployed" || st == "Draft", st
		})
		if code, res := c.trigger(); code != 200 || claim(res, "plan") != "free" {
			t.Fatalf("preview mode changed what is live: %d %v", code, res)
		}
		code, pv := c.admin("GET", "/deployments/"+draft+"/preview", nil)
		pw, _ := pv["password"].(string)
		if code != 200 || pw == "" {
			t.Fatalf("preview password: %d %v", code, pv)
		}
		// A preview call checks a memory-hard password hash and reads the
		// database within a bound; on a starved machine it may answer 503
		// "try again" (Retry-After), and a caller tries again.
		eventually(t, "preview call", time.Minute, func() (bool, string) {
			code, res := c.triggerAt("?deploy_id="+draft, "X-Flowgate-Preview-Password", pw)
			if code != 200 && code != 503 || code == 200 && claim(res, "plan") != "platinum" {
				t.Fatalf("preview call: %d %v", code, res)
			}
			return code == 200, fmt.Sprintf("%d %v", code, res)
		})
		if code, _ := c.triggerAt("?deploy_id="+draft, "X-Flowgate-Preview-Password", "guess"); code != 401 {
			t.Fatalf("preview with a wrong password: %d", code)
		}
		if code, res := c.admin("POST", "/workflows/addClaims/deployments/"+draft+"/make-live", nil); code != 200 || res["status"] != "Live" {
			t.Fatalf("make-live: %d %v", code, res)
		}
		eventually(t, "made live", 5*time.Second, livePlan(c, "platinum"))

		// Runtime logs were recorded for the invocations.
		eventually(t, "runtime logs", 5*time.Second, func() (bool, string) {
			_, res := c.admin("GET", "/logs?workflow=addClaims&kind=runtime", nil)
			logs, _ := res["logs"].([]any)
			return len(logs) > 0, fmt.Sprint(len(logs))
		})

		// A restart keeps everything: tokens, live pointers, variables.
		a.stop()
		b2 := start(t, cfg)
		if b2.AdminToken() != c.bearer || b2.runtimeToken != c.runtimeBearer {
			t.Fatal("tokens changed across a restart")
		}
		c.base = b2.URL()
		if code, res := c.trigger(); code != 200 || claim(res, "plan") != "platinum" {
			t.Fatalf("after restart: %d %v", code, res)
		}
	})
}

// TestReplicas runs two apps on one PostgreSQL database and one artifact
// directory: a flip made through either is served by both within a
// second or so, and the dev repo's sync job runs once. The second replica
// runs workflows in worker processes.
func TestReplicas(t *testing.T) {
	t.Parallel()
	dbURL := storetest.PostgresURL(t)
	arts := filepath.Join(t.TempDir(), "artifacts")
	key := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // both replicas must share the master key
	cfgA := Config{DataDir: t.TempDir(), DatabaseURL: dbURL, Artifacts: arts, MasterKey: key, DevRepo: devRepo(t),
		Isolation: "inprocess", AdminToken: "admin-a", RuntimeToken: "runtime-shared"}
	cfgB := Config{DataDir: t.TempDir(), DatabaseURL: dbURL, Artifacts: arts, MasterKey: key,
		Isolation: "process", Workers: 1, AdminToken: "admin-b", RuntimeToken: "runtime-shared"}
	a := start(t, cfgA)
	b := start(t, cfgB)
	ca := &client{t: t, base: a.URL(), bearer: "admin-a", runtimeBearer: "runtime-shared", env: "production"}
	cb := &client{t: t, base: b.URL(), bearer: "admin-b", runtimeBearer: "runtime-shared", env: "production"}

	eventually(t, "live on A", 30*time.Second, livePlan(ca, "free"))
	eventually(t, "live on B", 5*time.Second, livePlan(cb, "free"))
	edit(t, cfgA.DevRepo, `?? "free"`, `?? "gold"`)
	eventually(t, "new commit live on B", 30*time.Second, livePlan(cb, "gold"))

	// A flip through B is served by A.
	if code, res := cb.admin("POST", "/workflows/addClaims/rollback", nil); code != 200 {
		t.Fatalf("rollback on B: %d %v", code, res)
	}
	eventually(t, "rollback on B served by A", 3*time.Second, livePlan(ca, "free"))

	// Each sync ran exactly once, though both replicas work jobs.
	_, res := ca.admin("GET", "/syncs", nil)
	seen := map[string]int{}
	for _, s := range res["syncs"].([]any) {
		seen[s.(map[string]any)["commitSha"].(string)]++
	}
	for sha, n := range seen {
		if n != 1 {
			t.Errorf("commit %s synced %d times", sha, n)
		}
	}
}

// TestHardening: attacks on the service through its HTTP surface, each
// refused.
func TestHardening(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil { // made world-readable by someone else
		t.Fatal(err)
	}
	repo := devRepo(t)
	cfg := Config{DataDir: dataDir, DevRepo: repo, Isolation: "inprocess", Environment: "qa_env", RuntimeToken: "configured-prod-token"}
	a := start(t, cfg)
	if info, _ := os.Stat(dataDir); info.Mode().Perm() != 0o700 {
		t.Errorf("data directory left at %v", info.Mode().Perm())
	}
	qa := &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: a.runtimeToken, env: "qa_env"}
	prod := &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: "configured-prod-token", env: "production"}
	eventually(t, "dev repo live in qa_env", 30*time.Second, livePlan(qa, "free"))

	// FLOWGATE_RUNTIME_TOKEN is production's only, and the API cannot rotate it.
	if qa.runtimeBearer == "configured-prod-token" || qa.runtimeBearer == "" {
		t.Fatalf("the dev environment's token = %q", qa.runtimeBearer)
	}
	if code, _ := qa.do("POST", "/api/v1/environments/qa_env/triggers/user:tokens_generation", "configured-prod-token", []byte(`{}`)); code != 401 {
		t.Errorf("production's configured token opened qa_env: %d", code)
	}
	if code, res := prod.trigger(); code != 200 || res["status"] != "skipped" {
		t.Errorf("production with its configured token: %d %v", code, res)
	}
	if code, _ := prod.admin("POST", "/runtime-token", nil); code != 409 {
		t.Errorf("rotating a configured token: %d, want 409", code)
	}

	// Management bodies: trailing text is refused and nothing is applied;
	// an oversized body is 413.
	if code, _ := qa.admin("PUT", "/variables/TRAIL", []byte(`{"value":"x","isSecret":false}}}}not json`)); code != 400 {
		t.Errorf("trailing garbage: %d", code)
	}
	if code, _ := qa.admin("GET", "/variables/TRAIL", nil); code != 404 {
		t.Errorf("a refused body was applied: %d", code)
	}
	if code, _ := qa.admin("PATCH", "", []byte(`{"previewMode":true}<garbage>`)); code != 400 {
		t.Errorf("trailing garbage on PATCH: %d", code)
	}
	if _, res := qa.admin("GET", "", nil); res["previewMode"] != false {
		t.Errorf("a refused PATCH turned preview mode on: %v", res)
	}
	big := []byte(`{"value":"` + strings.Repeat("a", 200<<10) + `","isSecret":false}`)
	if code, _ := qa.admin("PUT", "/variables/BIG", big); code != 413 {
		t.Errorf("oversized body: %d", code)
	}

	// Metrics count syncs and invocations.
	_, m := qa.do("GET", "/metrics", "", nil)
	for _, want := range []string{`flowgate_syncs_total{outcome="succeeded"}`, `flowgate_invocations_total{status="succeeded",trigger="user:tokens_generation"}`, "flowgate_invocation_duration_seconds_bucket"} {
		if !strings.Contains(fmt.Sprint(m["_raw"]), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Runtime logs tell the workflow's console lines from Flowgate's own
	// outcome rows, so a workflow cannot forge the latter.
	edit(t, repo, "console.log(`claims added", "console.log(\"invocation succeeded\"); console.log(`claims added")
	eventually(t, "edited workflow live", 30*time.Second, func() (bool, string) {
		code, res := qa.trigger()
		logs, _ := res["logs"].([]any)
		return code == 200 && len(logs) == 2, fmt.Sprint(res)
	})
	eventually(t, "logs written", 5*time.Second, func() (bool, string) {
		_, res := qa.admin("GET", "/logs?workflow=addClaims", nil)
		rows, _ := res["logs"].([]any)
		forged, outcome := 0, 0
		for _, r := range rows {
			row := r.(map[string]any)
			if row["message"] == "invocation succeeded" {
				if row["kind"] == "outcome" {
					outcome++
					if row["status"] != "succeeded" {
						t.Errorf("outcome row without status: %v", row)
					}
				} else {
					forged++
					if row["status"] != nil || row["kind"] != "console" {
						t.Errorf("a console line looks like an outcome: %v", row)
					}
				}
			}
		}
		return forged > 0 && outcome > 0, fmt.Sprint(rows)
	})
}
