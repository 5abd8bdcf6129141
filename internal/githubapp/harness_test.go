package githubapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/prdiff"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

// The local GitHub's repository and installation (see githubtest.Start);
// every payload names testRepoID, to which environments are bound.
const (
	testRepo   = githubtest.Repo
	testInst   = githubtest.Installation
	testRepoID = githubtest.RepoID
	wfPath     = "kindeSrc/environment/workflows/tokens/addClaimsWorkflow.ts"
)

// harness is one test's world: the local GitHub, a control plane on
// SQLite, and the App between them.
type harness struct {
	t     testing.TB
	gh    *githubtest.Server
	svc   *deploy.Service
	db    *store.DB
	app   *App
	seq   atomic.Int64
	clock time.Time
}

// harnessOptions are the App's options plus what the harness gives the
// deploy pipeline it runs on.
type harnessOptions struct {
	Options
	NPM   npm.Options
	Check func(ctx context.Context, dir string, opts project.Options) (*project.Report, error)
	// Diff gives the App a behaviour differ on the deploy service, which
	// replays in an in-process sandbox.
	Diff bool
}

func newHarness(t testing.TB, mod ...func(*harnessOptions)) *harness {
	t.Helper()
	gh, clients := fakeGitHub(t)
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	ho := harnessOptions{Options: Options{Clients: clients, WorkDir: t.TempDir(), Log: quiet()},
		NPM: npm.Options{Registry: "http://127.0.0.1:1/", CacheDir: t.TempDir()}}
	for _, m := range mod {
		m(&ho)
	}
	dopts := deploy.Options{Store: db, Artifacts: arts, Cipher: cipher, Logger: quiet(), DataDir: t.TempDir(), NPM: ho.NPM}
	if ho.Check != nil {
		dopts.Check = func(ctx context.Context, dir string) (*project.Report, error) {
			return ho.Check(ctx, dir, project.Options{})
		}
	}
	svc, err := deploy.New(dopts)
	if err != nil {
		t.Fatal(err)
	}
	opts := ho.Options
	opts.Deploy = svc
	if ho.Diff {
		runner := sandbox.NewInProcess(sandbox.Options{})
		t.Cleanup(func() { runner.Close() })
		if opts.Diff, err = prdiff.New(prdiff.Options{Source: svc, Runner: runner}); err != nil {
			t.Fatal(err)
		}
	}
	app, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, gh: gh, svc: svc, db: db, app: app, clock: time.Now().UTC().Truncate(time.Second)}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// deliver runs one delivery through the handlers, as the job would.
func (h *harness) deliver(event string, payload []byte) error {
	h.t.Helper()
	n := h.seq.Add(1)
	return h.deliverAs(fmt.Sprintf("delivery-%d", n), event, payload, h.clock.Add(time.Duration(n)*time.Second))
}

func (h *harness) deliverAs(id, event string, payload []byte, at time.Time) error {
	return h.app.Handle(context.Background(), DeliveryArgs{ID: id, Event: event, Payload: payload, ReceivedAt: at})
}

// files is a repository snapshot: path -> content.
type files map[string]string

func starter(plan string) files {
	return files{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		"README.md":  "# flows\n",
		wfPath: `export const workflowSettings = {
  id: "addClaims",
  name: "Add claims",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {} },
};

export default async function addClaims(event: any) {
  kinde.accessToken.setCustomClaim("plan", "` + plan + `");
}
declare const kinde: any;
`,
	}
}

// push is a real push payload to main at after, changing paths; sets
// change fields by dotted path (see githubtest.Push).
func (h *harness) push(after string, changed []string, sets ...map[string]any) []byte {
	h.t.Helper()
	set := map[string]any{}
	for _, m := range sets {
		maps.Copy(set, m)
	}
	return githubtest.Push(h.t, after, changed, set)
}

// commit serves fs as the commit named label and returns its id and a
// push of it.
func (h *harness) commit(label string, fs files, changed ...string) (string, []byte) {
	h.t.Helper()
	s := githubtest.SHA(label)
	h.gh.Commit(h.t, testRepo, s, fs)
	if changed == nil {
		changed = []string{wfPath}
	}
	return s, h.push(s, changed)
}

// checks returns the check runs on sha by name (the newest of each name).
func (h *harness) checks(sha string) map[string]githubtest.CheckRun {
	return h.gh.Checks(testRepo, sha)
}

func (h *harness) live(wf string) string {
	h.t.Helper()
	w, err := h.svc.Workflow(context.Background(), DefaultEnvironment, wf)
	if err != nil {
		return ""
	}
	return w.LiveDeploymentID
}

func (h *harness) noBodyErrors() {
	h.t.Helper()
	if errs := h.gh.BodyErrors(); len(errs) > 0 {
		h.t.Fatalf("requests GitHub would refuse: %v", errs)
	}
}

// retryingDownload is the default download client with fast retries.
func retryingDownload() *http.Client {
	return &http.Client{Transport: &retryTransport{base: http.DefaultTransport, policy: RetryPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond}.withDefaults()}}
}
