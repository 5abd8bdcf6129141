package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/testenv"
)

// On the stop signal the service drains: /readyz turns 503 first, a
// request already running and requests that still arrive are answered,
// and only then does the listener close.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DevRepo: devRepo(t), Isolation: "inprocess",
		AdminToken: "admin", RuntimeToken: "runtime", DrainDelay: time.Hour} // ended by StopNow below
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := New(ctx, cfg, quietLogger(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	<-a.started
	c := &client{t: t, base: a.URL(), bearer: "admin", runtimeBearer: "runtime", env: "production"}
	eventually(t, "live", 60*time.Second, livePlan(c, "free"))
	if code, _ := c.do("GET", "/readyz", "", nil); code != 200 {
		t.Fatalf("readyz before the signal: %d", code)
	}

	// A request in flight: its body is still being sent when the signal comes.
	event, err := os.ReadFile(filepath.Join(testenv.Root(), "examples", "starter", "events", "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", a.URL()+"/api/v1/environments/production/triggers/user:tokens_generation", pr)
	req.Header.Set("Authorization", "Bearer runtime")
	inflight := make(chan int, 1)
	go func() {
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			inflight <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		inflight <- resp.StatusCode
	}()
	if _, err := pw.Write(event[:10]); err != nil { // returns once the server is reading the body
		t.Fatal(err)
	}

	cancel() // SIGTERM
	eventually(t, "readyz 503 after the signal", 10*time.Second, func() (bool, string) {
		code, res := c.do("GET", "/readyz", "", nil)
		return code == 503, fmt.Sprintf("%d %v", code, res)
	})
	for i := range 20 {
		if code, res := c.trigger(); code != 200 || claim(res, "plan") != "free" {
			t.Fatalf("request %d after the signal: %d %v", i, code, res)
		}
	}
	if _, err := pw.Write(event[10:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-inflight; code != 200 {
		t.Fatalf("the request in flight at the signal got %d", code)
	}

	a.StopNow() // the second signal
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := http.Get(a.URL() + "/healthz"); err == nil {
		t.Fatal("still listening after the drain")
	}
}
