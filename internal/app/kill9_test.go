package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
	"github.com/flowgate/flowgate/internal/testenv"
)

// The kill -9 harness (docs/operations.md, "Crash safety"): a git dev
// repository gets a commit, the service syncs it, and at a random moment
// the service process is killed with SIGKILL and started again — sometimes
// after a person rolled back while it was down. After every restart the
// commit must be synced within the bound, and at the end:
//
//   - no manual flip was undone: no automatic flip of a commit pushed
//     before a make-live/rollback happened after it;
//   - no duplicate effect: one finished sync per commit, one automatic
//     flip per deployment, one live deployment per workflow;
//   - no commit stuck: every queued commit finished within the bound
//     after the restart (10 s with FLOWGATE_KILL9_ITERATIONS set; a
//     generous minute in the normal suite, which runs a few iterations).
//
// FLOWGATE_KILL9_ITERATIONS=80 go test ./internal/app -run TestKill9 -v
// (.ci/kill9 runs it on SQLite and PostgreSQL).

const kill9Env = "production"

// TestKill9Child is the service process the harness kills: it runs only
// when the harness starts this test binary for it.
func TestKill9Child(t *testing.T) {
	if os.Getenv("FLOWGATE_KILL9_CHILD") != "1" {
		t.Skip("the kill -9 harness's service process")
	}
	cfg, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err != nil { // until SIGKILL
		t.Fatal(err)
	}
}

func TestKill9(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kill -9 harness: not in -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git", "install git")
	}
	iterations, bound := 3, time.Minute
	if v := os.Getenv("FLOWGATE_KILL9_ITERATIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("FLOWGATE_KILL9_ITERATIONS=%q", v)
		}
		iterations, bound = n, 10*time.Second
	}
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		kill9(t, b.NewURL(t), iterations, bound)
	})
}

// harness9 is one run of the harness.
type harness9 struct {
	t        *testing.T
	repo     string
	dataDir  string
	env      []string
	child    *exec.Cmd
	log      *os.File
	db       *store.DB
	svc      *deploy.Service
	rng      *rand.Rand
	restarts int
	slowest  time.Duration
}

func kill9(t *testing.T, dbURL string, iterations int, bound time.Duration) {
	registry, _ := testenv.NPMRegistry(t)
	h := &harness9{t: t, repo: devRepo(t), dataDir: t.TempDir(), rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))}
	h.git("init", "-q")
	h.git("add", "-A")
	h.git("commit", "-qm", "start")
	log, err := os.Create(filepath.Join(t.TempDir(), "service.log"))
	if err != nil {
		t.Fatal(err)
	}
	h.log = log
	t.Cleanup(func() { log.Close() })
	h.env = append(os.Environ(), "FLOWGATE_KILL9_CHILD=1", "FLOWGATE_ADDR=127.0.0.1:0",
		"FLOWGATE_DATA_DIR="+h.dataDir, "FLOWGATE_DATABASE_URL="+dbURL, "FLOWGATE_DEV_REPO="+h.repo,
		"FLOWGATE_ISOLATION=inprocess", "FLOWGATE_NPM_REGISTRY="+registry)
	db, err := store.Open(context.Background(), dbURL, h.dataDir) // migrated before the service starts
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	h.start()
	t.Cleanup(h.kill)
	h.waitSynced(h.head(), time.Now(), bound)
	h.openControl()

	for i := 0; i < iterations; i++ {
		h.edit(i)
		// Kill at a random moment: before, during or after the sync.
		time.Sleep(time.Duration(h.rng.IntN(1500)) * time.Millisecond)
		h.kill()
		if h.rng.IntN(2) == 0 {
			h.rollback() // a person acts while the service is down
		}
		h.start()
		h.waitSynced(h.head(), time.Now(), bound)
		if h.rng.IntN(3) == 0 {
			h.rollback() // or while it runs
		}
	}
	h.check()
	t.Logf("%d kills; slowest commit after a restart: %s", h.restarts, h.slowest.Round(10*time.Millisecond))
}

func (h *harness9) git(args ...string) string {
	h.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", h.repo}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=k", "GIT_AUTHOR_EMAIL=k@example.com",
		"GIT_COMMITTER_NAME=k", "GIT_COMMITTER_EMAIL=k@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (h *harness9) head() string { return h.git("rev-parse", "HEAD") }

// edit commits a new default plan.
func (h *harness9) edit(i int) {
	p := filepath.Join(h.repo, workflowFile)
	b, err := os.ReadFile(p)
	if err != nil {
		h.t.Fatal(err)
	}
	s := string(b)
	at := strings.Index(s, `?? "`)
	end := strings.Index(s[at+4:], `"`)
	s = s[:at+4] + fmt.Sprintf("plan-%d", i) + s[at+4+end:]
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.git("commit", "-qam", fmt.Sprintf("plan %d", i))
}

func (h *harness9) start() {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.v=false")
	cmd.Env = h.env
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.child = cmd
}

func (h *harness9) kill() {
	if h.child == nil {
		return
	}
	h.child.Process.Signal(syscall.SIGKILL)
	h.child.Wait()
	h.child = nil
	h.restarts++
}

// openControl opens the database beside the service, as a second replica
// would, to make manual flips and to read what happened.
func (h *harness9) openControl() {
	h.t.Helper()
	ctx := context.Background()
	arts, err := artifact.Open(ctx, filepath.Join(h.dataDir, "artifacts"), artifact.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", h.dataDir)
	if err != nil {
		h.t.Fatal(err)
	}
	h.svc, err = deploy.New(deploy.Options{Store: h.db, Artifacts: arts, Cipher: cipher, Logger: quietLogger(), DataDir: h.t.TempDir()})
	if err != nil {
		h.t.Fatal(err)
	}
}

// rollback rolls the workflow back when it can (the first commits have
// nothing to roll back to).
func (h *harness9) rollback() {
	_, err := h.svc.Rollback(context.Background(), kill9Env, "addClaims", deploy.Actor{Name: "kill9", Reason: "harness"})
	if err != nil && !strings.Contains(err.Error(), "conflict") && !strings.Contains(err.Error(), "not found") {
		h.t.Fatalf("rollback: %v", err)
	}
}

// waitSynced waits until the commit's sync finished, and records how long
// that took after the restart.
func (h *harness9) waitSynced(sha string, since time.Time, bound time.Duration) {
	h.t.Helper()
	for {
		syncs, err := h.db.SyncsOf(context.Background(), kill9Env, sha, "")
		if err != nil {
			h.t.Fatal(err)
		}
		for _, y := range syncs {
			// A run that found another run of the same sync finished
			// first (a takeover racing a re-enqueue) defers to that one.
			if y.Finished() && !(y.Status == store.SyncSkipped && y.Reason == store.ReasonDuplicate) {
				if y.Status != store.SyncSucceeded {
					h.t.Fatalf("commit %s: sync %s %s: %s", sha[:12], y.ID, y.Status, y.Error)
				}
				h.slowest = max(h.slowest, time.Since(since))
				return
			}
		}
		if time.Since(since) > bound {
			b, _ := os.ReadFile(h.log.Name())
			h.t.Fatalf("commit %s stuck: not synced %s after the restart; syncs %+v\nservice log tail:\n%s",
				sha[:12], bound, syncs, tail(string(b), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// check asserts the harness's three properties on what the database
// recorded.
func (h *harness9) check() {
	t, ctx := h.t, context.Background()
	h.kill()
	syncs, err := h.db.Syncs(ctx, kill9Env, 1000)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ commit, resync string }
	finished := map[key]int{}
	requested := map[string]time.Time{} // sync id -> requested at
	for _, y := range syncs {
		requested[y.ID] = y.RequestedAt
		if y.Finished() && y.Reason != store.ReasonDuplicate {
			finished[key{y.CommitSHA, y.Resync}]++
		}
	}
	for k, n := range finished {
		if n > 1 {
			t.Errorf("duplicate effect: commit %s synced %d times", k.commit, n)
		}
	}
	flips, err := h.db.Flips(ctx, kill9Env, "addClaims", 10000)
	if err != nil {
		t.Fatal(err)
	}
	autoTo := map[string]int{}
	manual := 0
	for i, f := range flips { // newest first
		if f.Action != store.ActionAutoLive {
			manual++
			continue
		}
		if autoTo[f.ToDeployment]++; autoTo[f.ToDeployment] > 1 {
			t.Errorf("duplicate effect: deployment %s made live automatically twice", f.ToDeployment)
		}
		d, err := h.db.Deployment(ctx, f.ToDeployment)
		if err != nil {
			t.Fatal(err)
		}
		req := requested[d.SyncID]
		for _, m := range flips[i+1:] { // older flips
			if m.Action != store.ActionAutoLive && m.At.After(req) {
				t.Errorf("manual flip undone: %s at %s, then the sync of %s (pushed %s) made %s live at %s",
					m.Action, m.At.Format(time.StampMicro), shortSHA(d.CommitSHA), req.Format(time.StampMicro), d.ID, f.At.Format(time.StampMicro))
			}
		}
	}
	deps, err := h.db.Deployments(ctx, kill9Env, "addClaims", 1000)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, d := range deps {
		if d.Status == store.Live {
			live++
		}
		if d.Status == store.Processing {
			t.Errorf("deployment %s left Processing", d.ID)
		}
	}
	if live > 1 {
		t.Errorf("%d live deployments of one workflow", live)
	}
	t.Logf("%d syncs, %d flips (%d manual), %d deployments", len(syncs), len(flips), manual, len(deps))
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
