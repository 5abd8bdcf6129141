package githubapp

import (
	"context"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/store"
)

// An environment belongs to GitHub's repository id, not to its name: the
// original repository keeps production through a rename, a new repository
// that takes the freed name cannot deploy into it or flip it, and only an
// explicit re-bind hands the environment over.
func TestEnvironmentFollowsTheRepositoryIDNotItsName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	_, push := h.commit("one", starter("gold"))
	if err := h.post("push", push); err != nil {
		t.Fatal(err)
	}
	original := h.live("addClaims")
	if original == "" {
		t.Fatal("the first push did not go live")
	}

	// acme/flows is renamed to acme/flows-renamed, and someone creates a
	// new acme/flows: its pushes are refused.
	const imposterID = 999_001
	s2 := githubtest.SHA("imposter")
	h.gh.Commit(t, testRepo, s2, starter("evil"))
	if err := h.post("push", h.push(s2, []string{wfPath}, map[string]any{"repository.id": imposterID})); err != nil {
		t.Fatal(err)
	}
	c := h.checks(s2)[CheckSync]
	if c.Conclusion != "failure" || !strings.Contains(c.Summary, "another repository under that name") || !strings.Contains(c.Summary, "github-repository") {
		t.Fatalf("imposter's sync check %s: %q", c.Conclusion, c.Summary)
	}
	if h.live("addClaims") != original {
		t.Fatal("a new repository with the freed name changed production")
	}
	// Nor can a command in it flip production.
	h.gh.SetPermission(testRepo, "mallory", "admin")
	comment := githubtest.Aim(t, h.comment("created", "/deactivate addClaims", "mallory", "User", 1), map[string]any{"repository.id": imposterID})
	if err := h.post("issue_comment", comment); err != nil {
		t.Fatal(err)
	}
	if h.live("addClaims") != original {
		t.Fatal("a command in the new repository flipped production")
	}

	// The renamed original keeps its environment.
	const renamed = "acme/flows-renamed"
	h.gh.Install(testInst, renamed)
	s3 := githubtest.SHA("renamed")
	h.gh.Commit(t, renamed, s3, starter("platinum"))
	if err := h.post("push", h.push(s3, []string{wfPath}, map[string]any{"repository.full_name": renamed, "repository.name": "flows-renamed"})); err != nil {
		t.Fatal(err)
	}
	afterRename := h.live("addClaims")
	if afterRename == original || afterRename == "" {
		t.Fatalf("the renamed repository's push did not go live (live %q)", afterRename)
	}
	src, err := h.db.SourceFor(ctx, DefaultEnvironment)
	if err != nil || src.Ref != renamed || src.RepoID != testRepoID {
		t.Fatalf("source after the rename: %+v %v", src, err)
	}

	// An operator hands production to the new acme/flows on purpose.
	if _, err := h.svc.RebindGitHub(ctx, DefaultEnvironment, testRepo, imposterID); err != nil {
		t.Fatal(err)
	}
	s4 := githubtest.SHA("handed-over")
	h.gh.Commit(t, testRepo, s4, starter("silver"))
	if err := h.post("push", h.push(s4, []string{wfPath}, map[string]any{"repository.id": imposterID})); err != nil {
		t.Fatal(err)
	}
	if h.live("addClaims") == afterRename {
		t.Fatal("after the re-bind the new repository's push did not go live")
	}
	h.noBodyErrors()
}

// Environments recorded before ids were kept are bound by the next push
// of the repository they name, then hold to that id.
func TestUnboundEnvironmentIsBoundByItsRepositorysNextPush(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if err := h.svc.EnsureEnvironment(ctx, DefaultEnvironment); err != nil {
		t.Fatal(err)
	}
	if err := h.db.PutGitHubSource(ctx, sourceNamed(testRepo)); err != nil {
		t.Fatal(err)
	}
	_, push := h.commit("one", starter("gold"))
	if err := h.post("push", push); err != nil {
		t.Fatal(err)
	}
	if src, _ := h.db.SourceFor(ctx, DefaultEnvironment); src.RepoID != testRepoID || h.live("addClaims") == "" {
		t.Fatalf("legacy source not bound by its repository's push: %+v", src)
	}
}

func sourceNamed(repo string) store.Source {
	return store.Source{Env: DefaultEnvironment, Ref: repo, Branch: "main", InstallationID: testInst}
}
