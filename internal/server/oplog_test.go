package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

func TestFailureSampler(t *testing.T) {
	f := newFailureSampler(10 * time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := failureKey{"prod", "claims", "timeout"}, failureKey{"prod", "claims", "thrown"}
	steps := []struct {
		key  failureKey
		at   time.Duration
		ok   bool
		held int
	}{
		{a, 0, true, 0},
		{a, time.Second, false, 0},
		{a, 2 * time.Second, false, 0},
		{b, 3 * time.Second, true, 0}, // another kind is its own key
		{a, 10 * time.Second, true, 2},
		{a, 11 * time.Second, false, 0},
		{a, 30 * time.Second, true, 1},
	}
	for i, s := range steps {
		ok, held := f.allow(s.key, t0.Add(s.at))
		if ok != s.ok || held != s.held {
			t.Errorf("step %d (%v at %v): %v %d, want %v %d", i, s.key, s.at, ok, held, s.ok, s.held)
		}
	}
}

func TestLogFailure(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	f := newFailureSampler(time.Minute)
	now := time.Now()
	res := &workflow.Result{WorkflowID: "claims", Status: "failed", DurationMs: 3,
		Error: &workflow.Error{Kind: "thrown", Message: "boom ***"}}
	for range 3 {
		logFailure(log, f, "prod", "user:tokens_generation", "dep_1", res, now)
	}
	logFailure(log, f, "prod", "user:tokens_generation", "dep_1", &workflow.Result{WorkflowID: "claims", Status: "succeeded"}, now)
	out := buf.String()
	if n := strings.Count(out, "invocation failed"); n != 1 {
		t.Fatalf("%d lines for 3 failures in a minute:\n%s", n, out)
	}
	for _, want := range []string{"level=WARN", "workflow_id=claims", "kind=thrown", `message="boom ***"`, "deployment_id=dep_1"} {
		if !strings.Contains(out, want) {
			t.Errorf("line lacks %s:\n%s", want, out)
		}
	}
}

// TestAuditLines: every management change is one audit line naming the
// action, environment, target and outcome; reads are not; values are not.
func TestAuditLines(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "f.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	arts, _ := artifact.OpenDir(t.TempDir(), artifact.Options{})
	cipher, _ := secrets.LoadMasterKey("", t.TempDir())
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: arts, Cipher: cipher})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	runner := sandbox.NewInProcess(sandbox.Options{})
	defer runner.Close()
	s, err := New(Options{Deploy: svc, Runner: runner, AdminToken: "tok", Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	call := func(method, path, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	if code := call("PUT", "/api/v1/environments/prod/variables/API_KEY", `{"value":"sk_secret_value","isSecret":true}`); code != http.StatusOK {
		t.Fatalf("put: %d", code)
	}
	call("GET", "/api/v1/environments/prod/variables", "")
	call("POST", "/api/v1/environments/prod/workflows/nope/rollback", "")
	out := buf.String()
	if n := strings.Count(out, "msg=audit"); n != 2 {
		t.Fatalf("%d audit lines, want 2 (no line for the read):\n%s", n, out)
	}
	for _, want := range []string{`action="PUT /api/v1/environments/{env}/variables/{name}" env=prod workflow_id="" target=API_KEY status=200`,
		`action="POST /api/v1/environments/{env}/workflows/{id}/rollback" env=prod workflow_id=nope target="" status=409`} {
		if !strings.Contains(out, want) {
			t.Errorf("no audit line with %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sk_secret_value") {
		t.Fatal("a secret value reached the log")
	}
}
