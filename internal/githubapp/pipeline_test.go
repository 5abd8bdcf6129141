package githubapp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// One pipeline: the same tree deploys the same bytes whether it arrives
// as a GitHub push (a tarball) or as a commit of a local git repository
// (the dev repo), and the GitHub path installs no package itself.
func TestGitHubAndDevRepoDeployTheSameBytes(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	h := newHarness(t)
	fs := starter("gold")
	s, push := h.commit("one", fs)
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	fromGitHub, err := h.svc.Deployments(ctx, DefaultEnvironment, "addClaims", 1)
	if err != nil || len(fromGitHub) != 1 || fromGitHub[0].CommitSHA != s {
		t.Fatalf("GitHub deployment: %+v, %v", fromGitHub, err)
	}

	dir := t.TempDir()
	for name, body := range fs {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "one")
	head, err := deploy.DirRef(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Run(ctx, deploy.SyncRequest{Env: "dev", Source: deploy.JobSource{Kind: "dev", Ref: dir}, CommitSHA: head})
	if err != nil || res.Sync.Status != store.SyncSucceeded || len(res.Deployments) != 1 {
		t.Fatalf("dev sync: %+v, %v", res, err)
	}
	g, d := fromGitHub[0], res.Deployments[0]
	if g.BundleDigest != d.BundleDigest || g.SourceMapDigest != d.SourceMapDigest || string(g.Settings) != string(d.Settings) {
		t.Fatalf("GitHub %s/%s, dev repo %s/%s", g.BundleDigest, g.SourceMapDigest, d.BundleDigest, d.SourceMapDigest)
	}
}

// A commit whose syncs keep killing the service is given up with a failed
// check run that says so, and nothing deploys.
func TestCommitThatKeepsKillingTheServiceFailsItsChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	s, push := h.commit("boom", starter("gold"))
	if err := h.svc.EnsureEnvironment(ctx, DefaultEnvironment); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // three runs that died with their process
		if err := h.db.InsertSync(ctx, store.Sync{ID: "sync_dead" + string(rune('a'+i)), Env: DefaultEnvironment, CommitSHA: s,
			Source: "github:" + testRepo, Status: store.SyncCrashed, Reason: store.ReasonHeartbeat,
			RequestedAt: h.clock, StartedAt: h.clock}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	cs := h.checks(s)
	for _, n := range []string{CheckSync, CheckBuild} {
		if cs[n].Conclusion != "failure" || cs[n].Title != "The sync keeps stopping Flowgate" || !strings.Contains(cs[n].Summary, "3 times") {
			t.Errorf("%s: %s %q %q", n, cs[n].Conclusion, cs[n].Title, cs[n].Summary)
		}
	}
	if h.live("addClaims") != "" {
		t.Fatal("a given-up commit deployed")
	}
	h.noBodyErrors()
}
