package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

// The re-bind endpoint hands an environment to another GitHub repository
// (by id, or by name until that repository's next push); it validates what
// it is given and never turns a non-GitHub source into one.
func TestGitHubRepositoryRebindAPI(t *testing.T) {
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
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: arts, Cipher: cipher, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Deploy: svc, Runner: sandbox.NewInProcess(sandbox.Options{}), AdminToken: "admin", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, env, body, token string) (int, map[string]any) {
		req := httptest.NewRequest(method, "/api/v1/environments/"+env+"/github-repository", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	for _, env := range []string{"production", "dev"} {
		if err := db.EnsureEnvironment(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutGitHubSource(ctx, store.Source{Env: "production", Ref: "acme/flows", Branch: "main", InstallationID: 7, RepoID: 42}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSource(ctx, store.Source{Env: "dev", Kind: "dev", Ref: "/src"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, env, body, token string
		want                           int
		repo                           string
		id                             float64
	}{
		{"read", "GET", "production", "", "admin", 200, "acme/flows", 42},
		{"no token", "PUT", "production", `{"repository":"acme/new","repositoryId":7}`, "", 401, "acme/flows", 42},
		{"bad name", "PUT", "production", `{"repository":"[x](https://evil)/y","repositoryId":7}`, "admin", 400, "acme/flows", 42},
		{"no owner", "PUT", "production", `{"repository":"flows"}`, "admin", 400, "acme/flows", 42},
		{"negative id", "PUT", "production", `{"repository":"acme/new","repositoryId":-1}`, "admin", 400, "acme/flows", 42},
		{"unknown field", "PUT", "production", `{"repo":"acme/new"}`, "admin", 400, "acme/flows", 42},
		{"dev source", "PUT", "dev", `{"repository":"acme/new","repositoryId":7}`, "admin", 404, "", 0},
		{"by id", "PUT", "production", `{"repository":"acme/new","repositoryId":7}`, "admin", 200, "acme/new", 7},
		{"by name", "PUT", "production", `{"repository":"acme/newer"}`, "admin", 200, "acme/newer", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, res := call(c.method, c.env, c.body, c.token)
			if code != c.want {
				t.Fatalf("%s: %d %v, want %d", c.name, code, res, c.want)
			}
			if c.repo == "" {
				return
			}
			src, err := db.SourceFor(ctx, "production")
			if err != nil || src.Ref != c.repo || float64(src.RepoID) != c.id {
				t.Fatalf("source after %s: %+v %v", c.name, src, err)
			}
			if code == 200 && (res["repository"] != c.repo || res["repositoryId"] != c.id) {
				t.Fatalf("answer %v", res)
			}
		})
	}
}
