package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/store/storetest"
	"github.com/flowgate/flowgate/internal/testenv"
)

// faultProxy sits between the service and PostgreSQL on 127.0.0.1 and
// forwards the real protocol until told to cut: "refuse" closes the port
// and every connection (connection refused), "blackhole" keeps accepting
// but forwards nothing, in either direction, on new or open connections.
// restore heals the cut as a network would: held connections are reset.
type faultProxy struct {
	target, addr string

	mu    sync.Mutex
	gate  *sync.Cond // waits while mode is blackhole
	mode  string     // "", "refuse", "blackhole"
	ln    net.Listener
	conns map[net.Conn]bool
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{target: target, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	p.gate = sync.NewCond(&p.mu)
	go p.accept(ln)
	t.Cleanup(func() { p.cut("refuse") })
	return p
}

func (p *faultProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = true
		held := p.mode == "blackhole"
		p.mu.Unlock()
		if !held { // a held connection stays open, unanswered, until restore
			go p.pipe(c)
		}
	}
}

func (p *faultProxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[u] = true
	p.mu.Unlock()
	go p.copy(u, c)
	p.copy(c, u)
}

// copy forwards src to dst, holding every chunk while the network is cut.
func (p *faultProxy) copy(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.mode == "blackhole" {
				p.gate.Wait()
			}
			live := p.conns[dst]
			p.mu.Unlock()
			if !live {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *faultProxy) cut(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if mode == "refuse" {
		p.ln.Close()
		p.resetLocked()
	}
}

func (p *faultProxy) resetLocked() {
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *faultProxy) restore(t *testing.T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "refuse":
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
		}
		p.ln = ln
		go p.accept(ln)
	case "blackhole":
		p.resetLocked()
	}
	p.mode = ""
	p.gate.Broadcast()
}

// TestTriggersServedThroughADatabaseOutage cuts PostgreSQL under a
// running service, refused and then black-holed, while an auth server
// keeps calling the trigger: the calls are answered from the last good
// state (live bundle, token, variables), none waits for the database, the
// outage is logged once, and the service picks up changes once the
// database is back without a restart.
func TestTriggersServedThroughADatabaseOutage(t *testing.T) {
	t.Parallel()
	direct := storetest.PostgresURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFaultProxy(t, u.Host)
	u.Host = proxy.addr
	key := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	arts := filepath.Join(t.TempDir(), "artifacts")
	logs := &testenv.Buffer{}
	cfg := Config{DataDir: t.TempDir(), DatabaseURL: u.String(), Artifacts: arts, MasterKey: key, DevRepo: devRepo(t),
		Isolation: "inprocess", AdminToken: "admin", RuntimeToken: "runtime",
		// A call that waited for a black-holed database would wait this
		// long, far past the callers' deadline below.
		RefreshTimeout: time.Minute}
	a := startLogged(t, cfg, slog.New(slog.NewTextHandler(logs, nil)))
	c := &client{t: t, base: a.URL(), bearer: "admin", runtimeBearer: "runtime", env: "production"}
	eventually(t, "live", 60*time.Second, livePlan(c, "free"))
	if code, res := c.admin("PUT", "/variables/DEFAULT_PLAN", map[string]any{"value": "silver", "isSecret": false}); code != 200 {
		t.Fatalf("put variable: %d %v", code, res)
	}
	eventually(t, "variable served", 5*time.Second, livePlan(c, "silver"))

	// The other replica: changes it makes reach this one only through the
	// database.
	other := otherReplica(t, direct, key, arts, cfg.DataDir)

	event, err := os.ReadFile(filepath.Join(testenv.Root(), "examples", "starter", "events", "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // the auth server's deadline
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", a.URL()+"/api/v1/environments/production/triggers/user:tokens_generation", strings.NewReader(string(event)))
		req.Header.Set("Authorization", "Bearer runtime")
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"plan":"silver"`) {
			return fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return nil
	}

	plans := []string{"gold", "platinum"}
	for i, mode := range []string{"refuse", "blackhole"} {
		before := len(logs.String())
		proxy.cut(mode)
		if mode == "refuse" {
			// A change tried here during the outage fails, and owes the
			// calls a fresh read: they are still answered at once.
			if code, _ := c.admin("PUT", "/variables/DEFAULT_PLAN", map[string]any{"value": "lost", "isSecret": false}); code == 200 {
				t.Fatal("a change was accepted with the database refused")
			}
		}
		var mu sync.Mutex
		var calls, failed, late int
		var firstErr error
		// Calls go on until at least 2,000 were made, the state served is
		// older than two refresh intervals and the refresh is known to
		// fail (refused) or hang (black-holed), while calls are answered.
		for calls < 2000 || a.Deploy().SnapshotStats().MaxAge < 2*time.Second || a.Deploy().SnapshotStats().Failing == 0 {
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 50 {
						err := call()
						mu.Lock()
						calls++
						if err != nil {
							failed++
							if errors.Is(err, context.DeadlineExceeded) {
								late++
							}
							if firstErr == nil {
								firstErr = err
							}
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}
		t.Logf("%s: %d calls, %d failed, %d past their deadline; state age %s", mode, calls, failed, late,
			a.Deploy().SnapshotStats().MaxAge.Round(time.Millisecond))
		if late > 0 {
			t.Errorf("%s: %d calls held past their deadline", mode, late)
		}
		if failed*1000 > calls { // ≥ 99.9% answered from the last good state
			t.Errorf("%s: %d of %d calls failed; first: %v", mode, failed, calls, firstErr)
		}
		if st := a.Deploy().SnapshotStats(); mode == "refuse" && st.RefreshFailures == 0 {
			t.Errorf("%s: no refresh failure counted", mode)
		}
		// The outage shows in the metrics while it lasts.
		_, m := c.do("GET", "/metrics", "", nil)
		for _, want := range []string{"flowgate_runtime_state_refresh_failing 1", "flowgate_runtime_state_stale_served_total"} {
			if !strings.Contains(fmt.Sprint(m["_raw"]), want) {
				t.Errorf("%s: /metrics lacks %q", mode, want)
			}
		}

		// One line for the outage, none per call. (On a loaded machine a
		// slow read before the cut may have logged it already.)
		if n := strings.Count(logs.String()[before:], "runtime state refresh failing"); n > 1 {
			t.Errorf("%s: the failing refresh was logged %d times during one outage, want once:\n%s", mode, n, logs.String()[before:])
		}

		proxy.restore(t)
		// Recovery without a restart: a change made elsewhere is served.
		if err := other.PutVariable(context.Background(), "production", "DEFAULT_PLAN", plans[i], false); err != nil {
			t.Fatal(err)
		}
		eventually(t, mode+": change after recovery served", 30*time.Second, livePlan(c, plans[i]))
		if err := other.PutVariable(context.Background(), "production", "DEFAULT_PLAN", "silver", false); err != nil {
			t.Fatal(err)
		}
		eventually(t, mode+": back to silver", 30*time.Second, livePlan(c, "silver"))
		if n := strings.Count(logs.String(), "runtime state refresh failing"); n < i+1 {
			t.Errorf("after %d outages the failing refresh was logged %d times, want once per outage:\n%s", i+1, n, logs.String())
		}
	}
	// One error line: the management call refused above; none per trigger call.
	if n := strings.Count(logs.String(), "request failed"); n != 1 {
		t.Errorf("%d error lines, want 1 (the refused change)", n)
	}
}

// otherReplica is a second deployment service on the same database and
// artifacts, reached directly (not through the proxy).
func otherReplica(t *testing.T, dbURL, key, arts, dataDir string) *deploy.Service {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cipher, err := secrets.LoadMasterKey(key, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	as, err := artifact.Open(ctx, arts, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := deploy.New(deploy.Options{Store: db, Artifacts: as, Cipher: cipher, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// startLogged is start with the app's log kept.
func startLogged(t *testing.T, cfg Config, log *slog.Logger) *App {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, log, io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.started:
	case err := <-done:
		cancel()
		t.Fatalf("app stopped at once: %v", err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return a
}
