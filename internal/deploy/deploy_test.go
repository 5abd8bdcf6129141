package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestAutoLive(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		r1 := mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		if r1.Sync.Status != store.SyncSucceeded {
			t.Fatalf("sync = %+v", r1.Sync)
		}
		a1 := depOf(t, r1, "a")
		if a1.Status != store.Live || a1.BundleDigest == "" || a1.SourceMapDigest == "" {
			t.Fatalf("deployment = %+v", a1)
		}
		l, err := s.LiveFor(ctx, "prod", tokens)
		if err != nil || l == nil || l.DeploymentID != a1.ID || l.WorkflowID != "a" {
			t.Fatalf("LiveFor = %+v, %v", l, err)
		}
		code, err := s.Artifact(ctx, l.BundleDigest)
		if err != nil || !strings.Contains(string(code), "v1") {
			t.Fatalf("bundle = %q, %v", code, err)
		}
		if l, _ := s.LiveFor(ctx, "prod", "user:pre_mfa"); l != nil {
			t.Fatalf("trigger without workflow: %+v", l)
		}
		for i := 0; i < 100; i++ {
			if l, err := s.LiveFor(ctx, fmt.Sprintf("made-up-%d", i), tokens); l != nil || err != nil {
				t.Fatalf("unknown environment: %+v, %v", l, err)
			}
		}
		n := 0
		s.cache.Range(func(any, any) bool { n++; return true })
		if n != 1 {
			t.Fatalf("cache holds %d environments after lookups of unknown ones, want 1", n)
		}

		r2 := mustSync(t, s, twoWorkflows(t, "v2"), "sha2")
		a2 := depOf(t, r2, "a")
		if got := statusOf(t, s, a1.ID); got != store.Deployed {
			t.Errorf("previous live is %s, want Deployed", got)
		}
		if l, _ := s.LiveFor(ctx, "prod", tokens); l == nil || l.DeploymentID != a2.ID {
			t.Fatalf("LiveFor after second sync = %+v, want %s", l, a2.ID)
		}
		flips, _ := s.Flips(ctx, "prod", "a", 10)
		if len(flips) != 2 || flips[0].FromDeployment != a1.ID || flips[0].ToDeployment != a2.ID ||
			flips[0].Action != store.ActionAutoLive || flips[0].Actor != "sync" {
			t.Fatalf("flips = %+v", flips)
		}
		wfs, _ := s.Workflows(ctx, "prod")
		if len(wfs) != 2 || wfs[0].LiveDeploymentID != a2.ID || wfs[0].LatestStatus != store.Live {
			t.Fatalf("workflows = %+v", wfs)
		}
		syncs, _ := s.Syncs(ctx, "prod", 10)
		if len(syncs) != 2 || syncs[0].ID != r2.Sync.ID || len(syncs[0].Log) == 0 {
			t.Fatalf("syncs = %+v", syncs)
		}
		checkInvariants(t, s)
	})
}

func TestPreviewModeDraftThenMakeLive(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		if err := s.SetPreviewMode(ctx, "prod", true); err != nil {
			t.Fatal(err)
		}
		r1 := mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		a1 := depOf(t, r1, "a")
		if a1.Status != store.Draft {
			t.Fatalf("status = %s, want Draft", a1.Status)
		}
		if l, _ := s.LiveFor(ctx, "prod", tokens); l != nil {
			t.Fatalf("preview mode made %s live", l.DeploymentID)
		}
		if _, err := s.MakeLive(ctx, "prod", "a", a1.ID, Actor{Name: "admin", Reason: "ship it"}); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.LiveFor(ctx, "prod", tokens); l == nil || l.DeploymentID != a1.ID {
			t.Fatalf("LiveFor = %+v", l)
		}
		r2 := mustSync(t, s, twoWorkflows(t, "v2"), "sha2")
		a2 := depOf(t, r2, "a")
		if a2.Status != store.Deployed {
			t.Fatalf("second deployment = %s, want Deployed (a live one exists)", a2.Status)
		}
		if b2 := depOf(t, r2, "b"); b2.Status != store.Draft {
			t.Fatalf("b has nothing live, status = %s, want Draft", b2.Status)
		}
		if ids := liveIDs(t, s); ids["a"] != a1.ID {
			t.Fatalf("live moved in preview mode: %v", ids)
		}
		if _, err := s.MakeLive(ctx, "prod", "a", a2.ID, Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		if statusOf(t, s, a1.ID) != store.Deployed || statusOf(t, s, a2.ID) != store.Live {
			t.Fatal("make-live did not swap statuses")
		}
		// Wrong workflow, unknown deployment.
		if _, err := s.MakeLive(ctx, "prod", "b", a2.ID, Actor{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("make-live of another workflow's deployment: %v", err)
		}
		if _, err := s.MakeLive(ctx, "prod", "a", "dep_nope", Actor{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("make-live of unknown deployment: %v", err)
		}
		checkInvariants(t, s)
	})
}

func TestRollback(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s, _ := e.service(t)
		var ids []string
		for i, tag := range []string{"v1", "v2", "v3"} {
			e.clock.Advance(time.Second)
			ids = append(ids, depOf(t, mustSync(t, s, twoWorkflows(t, tag), "sha"+tag), "a").ID)
			_ = i
		}
		for _, want := range []string{ids[1], ids[0]} {
			d, err := s.Rollback(ctx, "prod", "a", Actor{Name: "admin", Reason: "bad release"})
			if err != nil {
				t.Fatal(err)
			}
			if d.ID != want || liveIDs(t, s)["a"] != want {
				t.Fatalf("rolled back to %s, want %s", d.ID, want)
			}
			checkInvariants(t, s)
		}
		if _, err := s.Rollback(ctx, "prod", "a", Actor{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("rollback past the first deployment: %v", err)
		}
		flips, _ := s.Flips(ctx, "prod", "a", 1)
		if flips[0].Action != store.ActionRollback || flips[0].Reason != "bad release" {
			t.Fatalf("flip = %+v", flips[0])
		}
	})
}

func TestDeactivateAndReactivate(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		a1 := depOf(t, mustSync(t, s, twoWorkflows(t, "v1"), "sha1"), "a")
		if err := s.Deactivate(ctx, "prod", "a", Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.LiveFor(ctx, "prod", tokens); l != nil {
			t.Fatalf("deactivated workflow still served: %+v", l)
		}
		if statusOf(t, s, a1.ID) != store.Deactivated {
			t.Fatal("status is not Deactivated")
		}
		if err := s.Deactivate(ctx, "prod", "a", Actor{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("second deactivate: %v", err)
		}
		if l, _ := s.LiveFor(ctx, "prod", m2m); l == nil {
			t.Fatal("deactivating a stopped b too")
		}
		if _, err := s.MakeLive(ctx, "prod", "a", a1.ID, Actor{}); err != nil {
			t.Fatalf("a Deactivated deployment can be made live again: %v", err)
		}
		checkInvariants(t, s)
	})
}

func TestDeleteWorkflow(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		// Removing b's file from the repository does not delete b.
		fa, ca := wf("a", tokens, "v2")
		r2 := mustSync(t, s, repo(t, map[string]string{fa: ca}), "sha2")
		if r2.Sync.Status != store.SyncSucceeded {
			t.Fatalf("sync = %+v", r2.Sync)
		}
		if l, _ := s.LiveFor(ctx, "prod", m2m); l == nil || l.WorkflowID != "b" {
			t.Fatal("b stopped running when its file left the repository")
		}
		if err := s.DeleteWorkflow(ctx, "prod", "b", Actor{Name: "admin"}); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.LiveFor(ctx, "prod", m2m); l != nil {
			t.Fatal("deleted workflow still served")
		}
		wfs, _ := s.Workflows(ctx, "prod")
		if len(wfs) != 1 || wfs[0].ID != "a" {
			t.Fatalf("workflows after delete = %+v", wfs)
		}
		if _, err := s.Workflow(ctx, "prod", "b"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted workflow readable: %v", err)
		}
		if err := s.DeleteWorkflow(ctx, "prod", "b", Actor{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		// The file comes back: the workflow reappears and goes live.
		mustSync(t, s, twoWorkflows(t, "v3"), "sha3")
		if l, _ := s.LiveFor(ctx, "prod", m2m); l == nil || l.WorkflowID != "b" {
			t.Fatal("b did not reappear")
		}
		checkInvariants(t, s)
	})
}

func TestKeptWorkflowBlocksItsTrigger(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		before := liveIDs(t, s)
		// A new workflow "c" on b's trigger, while b is kept (file removed).
		fa, ca := wf("a", tokens, "v2")
		fc, cc := wf("c", m2m, "v2")
		res := mustSync(t, s, repo(t, map[string]string{fa: ca, fc: cc}), "sha2")
		if res.Sync.Status != store.SyncFailed {
			t.Fatalf("sync = %s, want failed", res.Sync.Status)
		}
		if !hasLog(res.Sync.Log, "c", "duplicate-trigger") {
			t.Fatalf("log = %+v", res.Sync.Log)
		}
		if after := liveIDs(t, s); after["a"] != before["a"] || after["b"] != before["b"] {
			t.Fatalf("live moved: %v -> %v", before, after)
		}
		// Deleting b frees the trigger.
		if err := s.DeleteWorkflow(ctx, "prod", "b", Actor{}); err != nil {
			t.Fatal(err)
		}
		res = mustSync(t, s, repo(t, map[string]string{fa: ca, fc: cc}), "sha3")
		if res.Sync.Status != store.SyncSucceeded {
			t.Fatalf("sync after delete = %+v", res.Sync)
		}
		checkInvariants(t, s)
	})
}

func hasLog(log []SyncLogEntry, workflowID, rule string) bool {
	for _, e := range log {
		if e.WorkflowID == workflowID && e.Rule == rule && e.Severity == "error" {
			return true
		}
	}
	return false
}

func TestBrokenCommitChangesNothingLive(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
		before := liveIDs(t, s)
		// a is fine, b has a syntax error, d has no id.
		fa, ca := wf("a", tokens, "v2")
		fb, _ := wf("b", m2m, "v2")
		dir := repo(t, map[string]string{fa: ca,
			fb: `export const workflowSettings = { id: "b", trigger: "m2m:token_generation" };
export default async function handle( {`,
			"kindeSrc/environment/workflows/dWorkflow.ts": `export const workflowSettings = { trigger: "user:pre_mfa" };
export default async function () {}`,
		})
		res := mustSync(t, s, dir, "sha-broken")
		if res.Sync.Status != store.SyncFailed || res.Sync.Error == "" {
			t.Fatalf("sync = %+v", res.Sync)
		}
		if !hasLog(res.Sync.Log, "b", "build-error") {
			t.Errorf("log lacks b's build-error: %+v", res.Sync.Log)
		}
		if !hasLogRule(res.Sync.Log, "missing-id") {
			t.Errorf("log lacks d's missing-id: %+v", res.Sync.Log)
		}
		if after := liveIDs(t, s); after["a"] != before["a"] || after["b"] != before["b"] {
			t.Fatalf("a broken commit moved live pointers: %v -> %v", before, after)
		}
		for _, d := range res.Deployments {
			if d.Status != store.Failed {
				t.Errorf("deployment %s of a failed sync is %s", d.ID, d.Status)
			}
		}
		stored, _ := s.SyncByID(ctx, "prod", res.Sync.ID)
		if stored.Status != store.SyncFailed || len(stored.Log) != len(res.Sync.Log) {
			t.Fatalf("stored sync = %+v", stored)
		}
		// No kinde.json at all: also a failed sync, nothing moves.
		res = mustSync(t, s, repo(t, map[string]string{"kinde.json": "{", fa: ca}), "sha-nojson")
		if res.Sync.Status != store.SyncFailed || !hasLogRule(res.Sync.Log, "invalid-kinde-json") {
			t.Fatalf("sync = %+v", res.Sync)
		}
		if after := liveIDs(t, s); after["a"] != before["a"] {
			t.Fatal("invalid kinde.json moved a pointer")
		}
		checkInvariants(t, s)
	})
}

func hasLogRule(log []SyncLogEntry, rule string) bool {
	for _, e := range log {
		if e.Rule == rule {
			return true
		}
	}
	return false
}

func TestCrashesLeaveConsistentState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(s *Service, fa *faultyArtifacts)
	}{
		{"artifact put fails", func(s *Service, fa *faultyArtifacts) { fa.failPut = true }},
		{"database error mid-flip", func(s *Service, fa *faultyArtifacts) {
			n := 0
			s.hook = func(step string) error {
				if step == "flip" {
					if n++; n == 2 { // after the first workflow moved, inside the transaction
						return errors.New("injected: connection lost")
					}
				}
				return nil
			}
		}},
		{"database error before commit", func(s *Service, fa *faultyArtifacts) {
			s.hook = func(step string) error {
				if step == "finish" {
					return errors.New("injected: commit failed")
				}
				return nil
			}
		}},
		{"cancelled", func(s *Service, fa *faultyArtifacts) {
			s.hook = func(step string) error { return context.Canceled }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) {
				ctx := context.Background()
				s, fa := newEnv(t, b.NewURL(t)).service(t)
				mustSync(t, s, twoWorkflows(t, "v1"), "sha1")
				before := liveIDs(t, s)
				tc.setup(s, fa)
				_, err := s.Sync(ctx, SyncRequest{Env: "prod", Dir: twoWorkflows(t, "v2"), CommitSHA: "sha2"})
				if err == nil {
					t.Fatal("sync with an injected failure succeeded")
				}
				if after := liveIDs(t, s); after["a"] != before["a"] || after["b"] != before["b"] {
					t.Fatalf("failure moved live pointers: %v -> %v", before, after)
				}
				syncs, _ := s.Syncs(ctx, "prod", 1)
				if syncs[0].Status != store.SyncInterrupted || syncs[0].Reason != store.ReasonError || syncs[0].Error == "" {
					t.Fatalf("failed sync recorded as %+v", syncs[0])
				}
				checkInvariants(t, s)
				// The retry (River's, in production) succeeds and deploys.
				fa.failPut, s.hook = false, nil
				res := mustSync(t, s, twoWorkflows(t, "v2"), "sha2")
				if depOf(t, res, "a").Status != store.Live {
					t.Fatal("retry did not go live")
				}
				checkInvariants(t, s)
			})
		})
	}
}

func TestMakeLiveRefusesMissingArtifactOrFailed(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, fa := newEnv(t, b.NewURL(t)).service(t)
		if err := s.SetPreviewMode(ctx, "prod", true); err != nil {
			t.Fatal(err)
		}
		a1 := depOf(t, mustSync(t, s, twoWorkflows(t, "v1"), "sha1"), "a")
		fa.hide[a1.BundleDigest] = true
		if _, err := s.MakeLive(ctx, "prod", "a", a1.ID, Actor{}); !errors.Is(err, ErrArtifactMissing) {
			t.Fatalf("make-live without its bundle: %v", err)
		}
		if ids := liveIDs(t, s); ids["a"] != "" {
			t.Fatalf("pointer moved to a deployment without artifacts: %v", ids)
		}
		delete(fa.hide, a1.BundleDigest)
		// A Failed deployment never goes live.
		fb, _ := wf("b", m2m, "x")
		res := mustSync(t, s, repo(t, map[string]string{fb: "export default 1 +"}), "sha-bad")
		for _, d := range res.Deployments {
			if _, err := s.MakeLive(ctx, "prod", d.WorkflowID, d.ID, Actor{}); !errors.Is(err, ErrConflict) {
				t.Fatalf("make-live of a Failed deployment: %v", err)
			}
		}
		checkInvariants(t, s)
	})
}

func TestOlderCommitNeverOverridesNewer(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		newer, err := s.Sync(ctx, SyncRequest{Env: "prod", Dir: twoWorkflows(t, "new"), CommitSHA: "new", RequestedAt: t0.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		// The older push's job runs late (a retry): it records, but does not flip.
		older, err := s.Sync(ctx, SyncRequest{Env: "prod", Dir: twoWorkflows(t, "old"), CommitSHA: "old", RequestedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if got := liveIDs(t, s)["a"]; got != depOf(t, newer, "a").ID {
			t.Fatalf("live = %s, want the newer commit's %s", got, depOf(t, newer, "a").ID)
		}
		if st := depOf(t, older, "a").Status; st != store.Deployed {
			t.Fatalf("older deployment = %s, want Deployed", st)
		}
		checkInvariants(t, s)
	})
}

func TestReplicasSeeFlips(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s1, _ := e.service(t)
		s2, _ := e.service(t) // a second replica: its own pool and cache
		r1 := mustSync(t, s1, twoWorkflows(t, "v1"), "sha1")
		e.clock.Advance(time.Second)
		r2 := mustSync(t, s1, twoWorkflows(t, "v2"), "sha2")
		if l, _ := s2.LiveFor(ctx, "prod", tokens); l == nil || l.DeploymentID != depOf(t, r2, "a").ID {
			t.Fatalf("replica 2 serves %+v", l)
		}
		// Replica 1 flips back; replica 2 serves its cached pointer until
		// its check interval passes, then the new one.
		if _, err := s1.MakeLive(ctx, "prod", "a", depOf(t, r1, "a").ID, Actor{}); err != nil {
			t.Fatal(err)
		}
		if l, _ := s2.LiveFor(ctx, "prod", tokens); l.DeploymentID != depOf(t, r2, "a").ID {
			t.Fatalf("replica 2 re-read before its interval (cache not used): %s", l.DeploymentID)
		}
		e.clock.Advance(s2.liveInterval)
		if l, _ := s2.LiveFor(ctx, "prod", tokens); l.DeploymentID != depOf(t, r1, "a").ID {
			t.Fatalf("replica 2 still serves %s one interval (%v) after the flip", l.DeploymentID, s2.liveInterval)
		}
		if s2.liveInterval > time.Second {
			t.Fatalf("default LiveCheckInterval %v is over a second", s2.liveInterval)
		}
		// Deactivate through replica 2; replica 1 stops serving.
		if err := s2.Deactivate(ctx, "prod", "a", Actor{}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(s1.liveInterval)
		if l, _ := s1.LiveFor(ctx, "prod", tokens); l != nil {
			t.Fatalf("replica 1 serves a deactivated workflow: %+v", l)
		}
	})
}

func TestConcurrentMakeLiveKeepsOneLive(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		e := newEnv(t, b.NewURL(t))
		s1, _ := e.service(t)
		s2, _ := e.service(t)
		var ids []string
		for _, tag := range []string{"v1", "v2", "v3", "v4"} {
			e.clock.Advance(time.Second)
			ids = append(ids, depOf(t, mustSync(t, s1, twoWorkflows(t, tag), "sha"+tag), "a").ID)
		}
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			s := s1
			if i%2 == 1 {
				s = s2
			}
			go func() {
				_, err := s.MakeLive(ctx, "prod", "a", ids[i%len(ids)], Actor{})
				errs <- err
			}()
		}
		for i := 0; i < 20; i++ {
			if err := <-errs; err != nil {
				t.Errorf("concurrent make-live: %v", err)
			}
		}
		checkInvariants(t, s1)
	})
}

func TestSyncThatCannotRunIsRecorded(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s, _ := newEnv(t, b.NewURL(t)).service(t)
		_, err := s.Sync(ctx, SyncRequest{Env: "prod", Dir: "/nonexistent/flowgate-test", CommitSHA: "sha1"})
		if err == nil {
			t.Fatal("sync of a missing directory succeeded")
		}
		syncs, _ := s.Syncs(ctx, "prod", 10)
		if len(syncs) != 1 || syncs[0].Status != store.SyncInterrupted || syncs[0].Error == "" || syncs[0].FinishedAt.IsZero() {
			t.Fatalf("syncs = %+v", syncs)
		}
		if _, err := s.Sync(ctx, SyncRequest{Env: "bad env/", Dir: t.TempDir(), CommitSHA: "x"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad environment name: %v", err)
		}
	})
}
