package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestGitHubSourceIsBoundToARepositoryID(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		db := open(t, b.NewURL(t))
		ctx := context.Background()
		if err := db.RebindGitHubSource(ctx, "production", "acme/x", 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rebind without a source: %v", err)
		}
		if err := db.EnsureEnvironment(ctx, "production"); err != nil {
			t.Fatal(err)
		}
		if err := db.PutGitHubSource(ctx, store.Source{Env: "production", Ref: "acme/flows", Branch: "main", InstallationID: 7, RepoID: 42}); err != nil {
			t.Fatal(err)
		}
		src, err := db.SourceFor(ctx, "production")
		if err != nil || src.Kind != "github" || src.Ref != "acme/flows" || src.RepoID != 42 || src.InstallationID != 7 {
			t.Fatalf("source %+v, %v", src, err)
		}
		if err := db.RebindGitHubSource(ctx, "production", "acme/flows-v2", 0); err != nil {
			t.Fatal(err)
		}
		if src, _ := db.SourceFor(ctx, "production"); src.Ref != "acme/flows-v2" || src.RepoID != 0 || src.Branch != "main" {
			t.Fatalf("after rebind %+v", src)
		}
		// A dev source is never re-bound to GitHub by the API.
		if err := db.PutSource(ctx, store.Source{Env: "production", Kind: "dev", Ref: "/src"}); err != nil {
			t.Fatal(err)
		}
		if err := db.RebindGitHubSource(ctx, "production", "acme/flows", 42); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rebind of a dev source: %v", err)
		}
	})
}

func TestSuspendedRepositoriesComeBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		db := open(t, b.NewURL(t))
		ctx := context.Background()
		for _, r := range []string{"acme/a", "acme/b", "acme/gone"} {
			if err := db.PutGitHubRepo(ctx, r, 7); err != nil {
				t.Fatal(err)
			}
		}
		db.PutGitHubRepo(ctx, "other/c", 8)
		if err := db.RemoveGitHubRepo(ctx, 7, "acme/gone"); err != nil {
			t.Fatal(err)
		}
		connected := func(repo string) bool {
			r, err := db.GitHubRepoByName(ctx, repo)
			if err != nil {
				t.Fatal(err)
			}
			return r.Connected()
		}
		if err := db.SuspendGitHubRepos(ctx, 7, true); err != nil {
			t.Fatal(err)
		}
		if connected("acme/a") || connected("acme/b") || !connected("other/c") {
			t.Fatal("suspending installation 7 did not disconnect exactly its repositories")
		}
		if rs, _ := db.GitHubRepos(ctx); len(rs) != 1 {
			t.Fatalf("connected while suspended: %+v", rs)
		}
		if err := db.SuspendGitHubRepos(ctx, 7, false); err != nil {
			t.Fatal(err)
		}
		if !connected("acme/a") || !connected("acme/b") || connected("acme/gone") {
			t.Fatal("unsuspending did not bring back exactly the installed repositories")
		}
	})
}
