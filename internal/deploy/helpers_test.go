package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

const (
	tokens = "user:tokens_generation"
	m2m    = "m2m:token_generation"
)

// fakeClock is a settable clock for windows and cache intervals. Each
// reading moves it on by a microsecond, so records made one after the
// other never share a timestamp (as with a real clock).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// faultyArtifacts wraps a real store and fails Put, or hides blobs, on demand.
type faultyArtifacts struct {
	Artifacts
	mu      sync.Mutex
	failPut bool
	hide    map[string]bool
}

func (f *faultyArtifacts) Put(ctx context.Context, data []byte) (string, error) {
	f.mu.Lock()
	fail := f.failPut
	f.mu.Unlock()
	if fail {
		return "", errors.New("injected: artifact store unavailable")
	}
	return f.Artifacts.Put(ctx, data)
}

func (f *faultyArtifacts) Has(ctx context.Context, d string) (bool, error) {
	f.mu.Lock()
	hidden := f.hide[d]
	f.mu.Unlock()
	if hidden {
		return false, nil
	}
	return f.Artifacts.Has(ctx, d)
}

// env is one test's world: a database URL, an artifact directory and a
// master key directory that several Services ("replicas") can share.
type env struct {
	url, artifacts, keys string
	clock                *fakeClock
}

func newEnv(t testing.TB, url string) *env {
	t.Helper()
	return &env{url: url, artifacts: t.TempDir(), keys: t.TempDir(),
		clock: &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
}

type svcOpts struct {
	realClock bool
}

// service opens a replica.
func (e *env) service(t testing.TB, o ...svcOpts) (*Service, *faultyArtifacts) {
	t.Helper()
	db, err := store.Open(context.Background(), e.url, "")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	dir, err := artifact.OpenDir(e.artifacts, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", e.keys)
	if err != nil {
		t.Fatal(err)
	}
	fa := &faultyArtifacts{Artifacts: dir, hide: map[string]bool{}}
	opts := Options{Store: db, Artifacts: fa, Cipher: cipher, Now: e.clock.Now}
	if len(o) > 0 && o[0].realClock {
		opts.Now = nil
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, fa
}

// repo writes a workflow repository: files maps repository paths to content.
func repo(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["kinde.json"]; !ok {
		files["kinde.json"] = `{"rootDir": "kindeSrc", "version": "2024-12-09"}`
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wf is a workflow file named after its id; tag changes the bundle.
func wf(id, trigger, tag string) (string, string) {
	return "kindeSrc/environment/workflows/" + id + "Workflow.ts",
		`export const workflowSettings = { id: "` + id + `", trigger: "` + trigger + `" };
export default async function handle(event: any) { return "` + tag + `"; }
`
}

// twoWorkflows is a repository with workflows "a" (tokens) and "b" (m2m).
func twoWorkflows(t testing.TB, tag string) string {
	t.Helper()
	fa, ca := wf("a", tokens, tag)
	fb, cb := wf("b", m2m, tag)
	return repo(t, map[string]string{fa: ca, fb: cb})
}

func mustSync(t testing.TB, s *Service, dir, sha string) *SyncResult {
	t.Helper()
	res, err := s.Sync(context.Background(), SyncRequest{Env: "prod", Dir: dir, CommitSHA: sha})
	if err != nil {
		t.Fatalf("sync %s: %v", sha, err)
	}
	return res
}

// liveIDs maps workflow id -> live deployment id (from the store).
func liveIDs(t *testing.T, s *Service) map[string]string {
	t.Helper()
	lds, err := s.db.LiveDeployments(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range lds {
		out[l.WorkflowID] = l.DeploymentID
	}
	return out
}

// depOf finds the deployment a sync made for a workflow.
func depOf(t *testing.T, res *SyncResult, workflowID string) Deployment {
	t.Helper()
	for _, d := range res.Deployments {
		if d.WorkflowID == workflowID {
			return d
		}
	}
	t.Fatalf("sync %s made no deployment of %s: %+v", res.Sync.ID, workflowID, res.Deployments)
	return Deployment{}
}

func statusOf(t *testing.T, s *Service, id string) Status {
	t.Helper()
	d, err := s.db.Deployment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Status
}

// checkInvariants asserts what must hold after any sequence of operations,
// crashes included: at most one Live deployment per workflow, every live
// pointer names a Live deployment whose artifacts are stored, and no Live
// deployment lacks a pointer.
func checkInvariants(t *testing.T, s *Service) {
	t.Helper()
	ctx := context.Background()
	wfs, err := s.db.Workflows(ctx, "prod", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wfs {
		deps, err := s.db.Deployments(ctx, "prod", w.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		live := 0
		var liveID string
		for _, d := range deps {
			if d.Status == store.Live {
				live++
				liveID = d.ID
			}
			if d.Status == store.Processing {
				t.Errorf("deployment %s left Processing", d.ID)
			}
		}
		ptr, err := s.db.LivePointer(ctx, "prod", w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if live > 1 {
			t.Errorf("workflow %s has %d Live deployments", w.ID, live)
		}
		if ptr != liveID {
			t.Errorf("workflow %s: pointer %q but Live deployment %q", w.ID, ptr, liveID)
		}
		if ptr != "" {
			d, _ := s.db.Deployment(ctx, ptr)
			for _, dg := range []string{d.BundleDigest, d.SourceMapDigest} {
				if ok, err := s.artifacts.Has(ctx, dg); err != nil || !ok {
					t.Errorf("live deployment %s: artifact %q missing (%v)", ptr, dg, err)
				}
			}
		}
	}
}
