package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
)

func TestGitHubRepos(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		db := open(t, b.NewURL(t))
		ctx := context.Background()
		names := func() []string {
			rs, err := db.GitHubRepos(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				out = append(out, r.Repo)
			}
			return out
		}
		if _, err := db.GitHubRepoByName(ctx, "acme/none"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown repo: %v", err)
		}
		for _, r := range []string{"acme/b", "acme/a", "other/c"} {
			inst := int64(7)
			if r == "other/c" {
				inst = 8
			}
			if err := db.PutGitHubRepo(ctx, r, inst); err != nil {
				t.Fatal(err)
			}
		}
		if got := names(); len(got) != 3 || got[0] != "acme/a" {
			t.Fatalf("repos %v", got)
		}
		if err := db.RemoveGitHubRepo(ctx, 7, "acme/a"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveGitHubRepo(ctx, 8, "acme/b"); err != nil { // another installation's repo: untouched
			t.Fatal(err)
		}
		if got := names(); len(got) != 2 {
			t.Fatalf("after removing acme/a: %v", got)
		}
		r, err := db.GitHubRepoByName(ctx, "acme/a")
		if err != nil || r.RemovedAt.IsZero() || r.InstallationID != 7 {
			t.Fatalf("removed repo: %+v %v", r, err)
		}
		if err := db.RemoveGitHubRepo(ctx, 7, ""); err != nil { // uninstalled
			t.Fatal(err)
		}
		if got := names(); len(got) != 1 || got[0] != "other/c" {
			t.Fatalf("after uninstalling 7: %v", got)
		}
		if err := db.PutGitHubRepo(ctx, "acme/a", 9); err != nil { // reinstalled elsewhere
			t.Fatal(err)
		}
		if r, _ := db.GitHubRepoByName(ctx, "acme/a"); !r.RemovedAt.IsZero() || r.InstallationID != 9 {
			t.Fatalf("reconnected repo: %+v", r)
		}
		// A forgotten delivery can be recorded again.
		if ok, _ := db.RecordDelivery(ctx, "d1", r.UpdatedAt); !ok {
			t.Fatal("first record refused")
		}
		if ok, _ := db.RecordDelivery(ctx, "d1", r.UpdatedAt); ok {
			t.Fatal("second record accepted")
		}
		if err := db.ForgetDelivery(ctx, "d1"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.RecordDelivery(ctx, "d1", r.UpdatedAt); !ok {
			t.Fatal("record after forget refused")
		}
	})
}
