// Package adapterstest starts what the adapters' end-to-end tests talk to:
// a real Flowgate app serving a dev repository of workflows, and real Ory
// servers as child processes. Tests only.
package adapterstest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/testenv"
)

// Flowgate is a running app.
type Flowgate struct {
	logs         *testenv.Buffer
	URL          string
	RuntimeToken string
	AdminToken   string
	Env          string
}

// StartFlowgate writes files (path -> content) with a kinde.json into a dev
// repository, starts the app on it and waits until every workflow in ids is
// live. It stops when the test ends.
func StartFlowgate(t testing.TB, files map[string]string, allowHosts []string, ids ...string) *Flowgate {
	t.Helper()
	fg, stop, err := Start(t.TempDir(), files, allowHosts, ids...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return fg
}

// Start is StartFlowgate outside a test (examples' TestMain): dir holds the
// repository and the data; stop ends the app.
func Start(dir string, files map[string]string, allowHosts []string, ids ...string) (fg *Flowgate, stop func(), err error) {
	repo, data := filepath.Join(dir, "repo"), filepath.Join(dir, "data")
	files["kinde.json"] = `{"rootDir": "kindeSrc", "version": "2024-12-09"}`
	for p, c := range files {
		full := filepath.Join(repo, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			return nil, nil, err
		}
	}
	fg = &Flowgate{logs: &testenv.Buffer{}, RuntimeToken: "rt-adapters-e2e-0123456789abcdef", AdminToken: "adm-adapters-e2e-0123456789abcdef", Env: "production"}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{
		Addr: "127.0.0.1:0", DataDir: data, DevRepo: repo,
		RuntimeToken: fg.RuntimeToken, AdminToken: fg.AdminToken,
		Isolation: "inprocess", AllowHosts: allowHosts,
	}, slog.New(slog.NewTextHandler(fg.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), fg.logs)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stop = func() {
		cancel()
		<-done
	}
	fg.URL = a.URL()
	for _, id := range ids {
		err := poll(3*time.Minute, func() (bool, string) {
			var w struct {
				LiveDeploymentID string `json:"liveDeploymentId"`
			}
			code, body := fg.Admin("GET", "/api/v1/environments/production/workflows/"+id, &w)
			return code == 200 && w.LiveDeploymentID != "", fmt.Sprintf("%d %s", code, body)
		})
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("workflow %s live: %w", id, err)
		}
	}
	return fg, stop, nil
}

// Logs is everything the app logged so far (debug level included).
func (f *Flowgate) Logs() string { return f.logs.String() }

// Admin calls the management API and decodes the answer into v (may be nil).
func (f *Flowgate) Admin(method, path string, v any) (int, string) {
	req, _ := http.NewRequest(method, f.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		_ = json.Unmarshal(b, v)
	}
	return resp.StatusCode, string(b)
}

// Eventually polls f until it reports true or limit passes. It paces a
// readiness check, never the outcome a test asserts.
func Eventually(t testing.TB, what string, limit time.Duration, f func() (bool, string)) {
	t.Helper()
	if err := poll(limit, f); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func poll(limit time.Duration, f func() (bool, string)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, msg := f()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not reached after %s; last: %s", limit, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Process is a child server whose output is kept for failure messages.
type Process struct {
	cmd *exec.Cmd
	out *testenv.Buffer
}

// Output is what the process wrote so far.
func (p *Process) Output() string { return p.out.String() }

// StartProcess runs bin with args in dir until the test ends and waits
// until ready answers 200.
func StartProcess(t testing.TB, dir, bin string, ready string, args ...string) *Process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "LOG_LEVEL=info")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", filepath.Base(bin), err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	p := &Process{cmd: cmd, out: out}
	Eventually(t, filepath.Base(bin)+" ready", 2*time.Minute, func() (bool, string) {
		select {
		case <-exited:
			t.Fatalf("%s exited during startup:\n%s", filepath.Base(bin), tail(out.String(), 4000))
		default:
		}
		resp, err := http.Get(ready)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	return p
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
