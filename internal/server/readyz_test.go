package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
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

// /readyz answers anyone: when the database is away it says so without the
// driver's error text, which goes to the log instead.
func TestReadyzHidesTheDriverError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	arts, err := artifact.Open(ctx, filepath.Join(dir, "artifacts"), artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := secrets.LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: arts, Cipher: cipher, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Deploy: svc, Runner: sandbox.NewInProcess(sandbox.Options{}), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get(); code != http.StatusOK {
		t.Fatalf("ready database: %d %s", code, body)
	}
	db.Close()
	code, body := get()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "the database cannot be reached") {
		t.Fatalf("closed database: %d %s", code, body)
	}
	if strings.Contains(body, "sql:") || strings.Contains(body, "closed") {
		t.Errorf("the answer carries the driver's text: %s", body)
	}
	if !strings.Contains(logs.String(), "database is closed") {
		t.Errorf("the driver's error is not logged: %s", logs.String())
	}
}
