package server

import (
	"bytes"
	"context"
	"fmt"
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

func newTestServer(t *testing.T, adminToken string) *Server {
	return newTestServerLog(t, adminToken, io.Discard)
}

func newTestServerLog(t *testing.T, adminToken string, logTo io.Writer) *Server {
	t.Helper()
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
	srv, err := New(Options{Deploy: svc, Runner: sandbox.NewInProcess(sandbox.Options{}), AdminToken: adminToken,
		Logger: slog.New(slog.NewTextHandler(logTo, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestAdminTokenGuessingIsBounded: wrong admin tokens from one address
// are counted; past the limit that address is refused even with the right
// token (else the attacker would still learn which guess was right), other
// addresses are not, and an IPv6 host cannot escape by hopping addresses
// inside its /64.
func TestAdminTokenGuessingIsBounded(t *testing.T) {
	const right = "short"
	srv := newTestServer(t, right)
	call := func(remote, tok string) int {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/environments", nil)
		req.RemoteAddr = remote
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := call("192.0.2.7:4000", right); code != http.StatusOK {
		t.Fatalf("the right token: %d", code)
	}
	for i := range adminGuessing.MaxFailures {
		if code := call("192.0.2.7:4000", "guess-"+string(rune('a'+i))); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	if code := call("192.0.2.7:4001", right); code != http.StatusTooManyRequests {
		t.Fatalf("the right token after %d wrong ones from the same address: %d, want 429", adminGuessing.MaxFailures, code)
	}
	if code := call("198.51.100.9:4000", right); code != http.StatusOK {
		t.Fatalf("another address is locked out too: %d", code)
	}

	// IPv6: each guess from a new address of the same /64.
	for i := range adminGuessing.MaxFailures {
		remote := fmt.Sprintf("[2001:db8:1:2::%x]:5000", i+1)
		if code := call(remote, "guess"); code != http.StatusUnauthorized {
			t.Fatalf("ipv6 guess %d: %d", i, code)
		}
	}
	if code := call("[2001:db8:1:2:ffff::1]:5000", right); code != http.StatusTooManyRequests {
		t.Fatalf("a new address in the same /64: %d, want 429", code)
	}
	if code := call("[2001:db8:1:3::1]:5000", right); code != http.StatusOK {
		t.Fatalf("another /64: %d", code)
	}
	// Calls without any token (a browser, a probe) are not guesses.
	for range adminGuessing.MaxFailures + 1 {
		call("203.0.113.5:1", "")
	}
	if code := call("203.0.113.5:1", right); code != http.StatusOK {
		t.Fatalf("token-less calls locked the address out: %d", code)
	}
}

// TestPreviewByGETIsAudited: GET …/preview mints a new preview password
// (and voids the last one), so it is an action like the POST: it gets an
// audit line.
func TestPreviewByGETIsAudited(t *testing.T) {
	var logs bytes.Buffer
	srv := newTestServerLog(t, "tok", &logs)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/environments/prod/deployments/dep_x/preview", nil)
	req.Header.Set("Authorization", "Bearer tok")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	if !strings.Contains(logs.String(), "msg=audit") || !strings.Contains(logs.String(), "/preview") {
		t.Fatalf("no audit line for GET …/preview:\n%s", logs.String())
	}
}
