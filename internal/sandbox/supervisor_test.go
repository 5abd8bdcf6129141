package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/testenv"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Test-only worker messages: they stand for failures no JavaScript can be
// relied on to cause once the runtime's own guards close every known path.
const (
	hookEnviron  = 'E' // answer with the worker's environment
	hookOverflow = 'S' // overflow the Go stack
	hookSpin     = 'H' // spin in Go code that no interrupt reaches
	hookGrow     = 'M' // allocate and hold memory until killed
	hookHuge     = 'A' // one allocation far past the address-space limit
	hookPanic    = 'C' // panic with the request's secrets in the message
	hookPing     = 'P' // decode the request, answer a fixed Result (protocol cost)
	hookDeep     = 'D' // answer a Result nested 12,000 levels deep
)

var sink [][]byte

// pingResponse is the size of a small workflow's answer.
var pingResponse = Response{Result: &workflow.Result{
	WorkflowID: "claims", Trigger: workflow.UserTokenGeneration, Status: workflow.StatusSucceeded, FailurePolicy: "stop",
	AccessToken: &workflow.Token{CustomClaims: map[string]any{"uid": "kp_1", "region": "eu"}},
	Logs:        []workflow.Log{{Level: "info", Message: "claims set for kp_1"}}, DurationMs: 0.05,
}}

func testHooks() map[byte]hook {
	return map[byte]hook{
		hookEnviron: func([]byte) any {
			res := &workflow.Result{Status: workflow.StatusSucceeded}
			for _, kv := range os.Environ() {
				res.Logs = append(res.Logs, workflow.Log{Level: "info", Message: kv})
			}
			return Response{Result: res}
		},
		hookOverflow: func([]byte) any { return Response{Result: &workflow.Result{DurationMs: float64(recurse(1))}} },
		hookSpin: func([]byte) any {
			for i := 0; ; i++ {
				if i < 0 {
					return nil
				}
			}
		},
		hookGrow: func([]byte) any {
			for {
				b := make([]byte, 8<<20)
				for i := 0; i < len(b); i += 4096 {
					b[i] = 1 // touch every page: resident, not just reserved
				}
				sink = append(sink, b)
			}
		},
		hookHuge: func([]byte) any {
			b := make([]byte, 64<<30)
			b[len(b)-1] = 1
			return Response{Result: &workflow.Result{Status: workflow.StatusSucceeded, DurationMs: float64(b[0])}}
		},
		hookDeep: func([]byte) any { return deepResponse(12000) },
		hookPing: func(body []byte) any {
			m, err := decodeRun(body)
			var meta runMeta
			if err != nil || json.Unmarshal(m.Meta, &meta) != nil {
				return Response{Result: &workflow.Result{Status: workflow.StatusFailed}}
			}
			return pingResponse
		},
		hookPanic: func(body []byte) any {
			m, _ := decodeRun(body)
			var meta runMeta
			_ = json.Unmarshal(m.Meta, &meta)
			panic("crash holding " + meta.Env["API_KEY"].Value + " and " + strings.Join(m.Redact, ","))
		},
	}
}

func recurse(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	//lint:ignore SA5007 the overflow hook exhausts the Go stack on purpose
	return recurse(n+1) + int(pad[0])
}

func TestMain(m *testing.M) {
	maybeWorker(testHooks())
	os.Exit(m.Run())
}

// testWall is the wall time of the test runners: far above what any run
// needs however loaded the machine, so a guard, a kill or a crash ends a
// case, never the clock. Tests of the deadline set a short one per request.
const testWall = 2 * time.Minute

// patientInProcess is the in-process runner with the tests' wall time.
func patientInProcess() Runner {
	return NewInProcess(Options{Limits: runtime.Limits{WallTime: testWall}})
}

func newSupervisor(t testing.TB, mod func(*Options)) (*Supervisor, *testenv.Buffer) {
	t.Helper()
	logs := &testenv.Buffer{}
	opts := Options{
		Workers:       3,
		MemoryCeiling: 256 << 20,
		Grace:         300 * time.Millisecond,
		Limits:        runtime.Limits{WallTime: testWall},
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&opts)
	}
	s, err := NewSupervisor(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

var tokenSettings = workflow.Settings{ID: "claims", Trigger: workflow.UserTokenGeneration,
	Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindEnv: {}}}

// claimsCode is a small realistic workflow: it reads the event and an env
// var and sets access token claims.
const claimsCode = `module.exports.default = async function (event) {
  const u = event.context.user;
  kinde.accessToken.setCustomClaim("uid", u.id);
  kinde.accessToken.setCustomClaim("region", kinde.env.get("REGION").value);
  console.log("claims set for", u.id);
};`

// busyCode spins in JavaScript for the event's ms, then succeeds.
const busyCode = `module.exports.default = async function (event) {
  const end = Date.now() + event.context.ms; while (Date.now() < end) {}
  console.log("done");
};`

func claimsRequest() *Request {
	return &Request{
		Settings: tokenSettings,
		Code:     []byte(claimsCode),
		Event:    []byte(`{"request":{},"context":{"user":{"id":"kp_1"}}}`),
		Env:      map[string]bindings.EnvVar{"REGION": {Value: "eu"}},
	}
}

func busyRequest(ms int) *Request {
	return &Request{
		Settings: workflow.Settings{ID: "busy", Trigger: workflow.UserTokenGeneration},
		Code:     []byte(busyCode),
		Event:    []byte(`{"request":{},"context":{"ms":` + itoa(ms) + `}}`),
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func wantKind(t *testing.T, res *workflow.Result, kind workflow.ErrorKind) {
	t.Helper()
	if res == nil || res.Status != workflow.StatusFailed || res.Error == nil || res.Error.Kind != kind {
		b, _ := json.Marshal(res)
		t.Fatalf("result %s, want failed with kind %q", b, kind)
	}
}

func wantOK(t *testing.T, res *workflow.Result) {
	t.Helper()
	if res == nil || res.Status != workflow.StatusSucceeded {
		b, _ := json.Marshal(res)
		t.Fatalf("result %s, want succeeded", b)
	}
}

func TestRunMatchesInProcess(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	in := patientInProcess()
	defer in.Close()
	for i := range 3 { // the second and third runs reuse the cached bundle
		got := s.Run(context.Background(), claimsRequest())
		want := in.Run(context.Background(), claimsRequest())
		wantOK(t, got.Result)
		got.Result.DurationMs, want.Result.DurationMs = 0, 0
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("run %d: supervised %s\nin-process %s", i, gj, wj)
		}
	}
}

func TestStubsReachTheWorker(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	req := &Request{
		Settings: workflow.Settings{ID: "f", Trigger: workflow.UserTokenGeneration,
			Bindings: map[string]workflow.BindingSettings{workflow.BindFetch: {}}},
		Code: []byte(`module.exports.default = async function () {
  const r = await kinde.fetch("https://api.example.com/a", {method: "GET"});
  console.log(JSON.stringify(r.json));
  try { await kinde.fetch("https://api.example.com/missing", {method: "GET"}); } catch (e) {}
};`),
		Stubs: []httpstub.Stub{{Method: "GET", URL: "https://api.example.com/a", Status: 200,
			Headers: map[string]string{"content-type": "application/json"}, Body: `{"x":1}`}},
	}
	resp := s.Run(context.Background(), req)
	wantOK(t, resp.Result)
	if len(resp.Result.Logs) != 1 || !strings.Contains(resp.Result.Logs[0].Message, `"x":1`) {
		t.Errorf("logs %+v, want the stubbed body", resp.Result.Logs)
	}
	if len(resp.Unmatched) != 1 || !strings.Contains(resp.Unmatched[0], "GET https://api.example.com/missing") {
		t.Errorf("unmatched %q", resp.Unmatched)
	}
}

// busyPIDs lists the workers running a request.
func (s *Supervisor) busyPIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	idle := map[*worker]bool{}
	for _, w := range s.idle {
		idle[w] = true
	}
	var out []int
	for w := range s.live {
		if !idle[w] {
			out = append(out, w.pid)
		}
	}
	return out
}

func TestKillMidInvocationFailsOnlyThatOne(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	var victim Response
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Busy far longer than the test waits: only the kill ends it.
		req := busyRequest(120_000)
		req.WallTime = 5 * time.Minute
		victim = s.Run(context.Background(), req)
	}()
	var pids []int
	for deadline := time.Now().Add(time.Minute); len(pids) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the victim never started")
		}
		time.Sleep(5 * time.Millisecond)
		pids = s.busyPIDs()
	}
	others := make([]Response, 2)
	var wg sync.WaitGroup
	for i := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := busyRequest(300)
			req.WallTime = time.Minute
			others[i] = s.Run(context.Background(), req)
		}()
	}
	// Kill once the others are running beside the victim (or, on a
	// machine that starved this goroutine, already done).
	othersDone := make(chan struct{})
	go func() { wg.Wait(); close(othersDone) }()
	for deadline := time.Now().Add(time.Minute); len(s.busyPIDs()) < 1+len(others); {
		select {
		case <-othersDone:
		case <-time.After(5 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("the other runs never started")
			}
			continue
		}
		break
	}
	victimProc, err := os.FindProcess(pids[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := victimProc.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	<-done
	wg.Wait()
	wantKind(t, victim.Result, workflow.KindSandboxCrashed)
	for _, r := range others {
		wantOK(t, r.Result)
	}
	wantOK(t, s.Run(context.Background(), claimsRequest()).Result)
	st := s.Stats()
	if st.Stopped[workflow.KindSandboxCrashed] != 1 || st.Requests < 3 || st.Started < 3 || st.Busy != 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestWorkerFailures(t *testing.T) {
	tests := []struct {
		name string
		hook byte
		mod  func(*Options)
		kind workflow.ErrorKind
		msg  string
	}{
		{name: "go stack overflow", hook: hookOverflow, kind: workflow.KindSandboxCrashed, msg: "native stack limit"},
		{name: "native spin past the deadline", hook: hookSpin, kind: workflow.KindTimeout, msg: "wall time"},
		{name: "memory past the ceiling", hook: hookGrow, kind: workflow.KindMemory, msg: "ceiling"},
		{name: "one allocation past the address space", hook: hookHuge, kind: workflow.KindMemory, msg: "out of memory",
			mod: func(o *Options) { o.AddressSpace = 4 << 30 }},
		{name: "go panic", hook: hookPanic, kind: workflow.KindSandboxCrashed, msg: "sandbox process died (exit status 2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newSupervisor(t, tc.mod)
			req := busyRequest(1)
			// Only the spin needs the deadline; the others must be stopped
			// by what they do, however slow the machine.
			req.WallTime = testWall
			if tc.hook == hookSpin {
				req.WallTime = 200 * time.Millisecond
			}
			start := time.Now()
			res := s.run(context.Background(), tc.hook, req).Result
			wantKind(t, res, tc.kind)
			if !strings.Contains(res.Error.Message, tc.msg) {
				t.Errorf("message %q does not say %q", res.Error.Message, tc.msg)
			}
			t.Logf("%s: %q after %v", tc.name, res.Error.Message, time.Since(start).Round(time.Millisecond))
			// The next invocation runs on a fresh worker.
			wantOK(t, s.Run(context.Background(), busyRequest(1)).Result)
		})
	}
}

func TestCrashKeepsSecretsOut(t *testing.T) {
	s, logs := newSupervisor(t, nil)
	req := claimsRequest()
	req.Env["API_KEY"] = bindings.EnvVar{Value: "sk_live_TOPSECRET", IsSecret: true}
	req.Redact = []string{"hunter2-password"}
	res := s.run(context.Background(), hookPanic, req).Result
	wantKind(t, res, workflow.KindSandboxCrashed)
	out, _ := json.Marshal(res)
	for _, secret := range []string{"sk_live_TOPSECRET", "hunter2-password"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the Result holds %q: %s", secret, out)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if !strings.Contains(logs.String(), "crash holding [REDACTED]") {
		t.Errorf("the debug log lacks the worker's (redacted) stderr:\n%s", logs)
	}
	if strings.Contains(string(out), "goroutine") || strings.Contains(string(out), "panic") {
		t.Errorf("the Result shows a Go dump: %s", out)
	}
}

func TestWorkerEnvironmentIsScrubbed(t *testing.T) {
	t.Setenv("FLOWGATE_GITHUB_TOKEN", "ghs_parenttoken")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "awsparentsecret")
	s, _ := newSupervisor(t, nil)
	res := s.run(context.Background(), hookEnviron, busyRequest(1)).Result
	wantOK(t, res)
	var env []string
	for _, l := range res.Logs {
		env = append(env, l.Message)
	}
	if len(env) != 1 || env[0] != workerEnv+"="+workerVersion {
		t.Errorf("worker environment %q, want only the marker", env)
	}
}

func TestQuarantine(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	bad := busyRequest(1)
	bad.Code = []byte(busyCode + "\n// a different bundle")
	digest := Digest(bad.Code, nil)
	for i := range 3 {
		if _, ok := s.Quarantined(digest); ok {
			t.Fatalf("quarantined after %d kills", i)
		}
		wantKind(t, s.run(context.Background(), hookOverflow, bad).Result, workflow.KindSandboxCrashed)
	}
	q, ok := s.Quarantined(digest)
	if !ok || q.Kills != 3 || !strings.Contains(q.Reason, "sandbox-crashed") {
		t.Fatalf("Quarantined = %+v, %v", q, ok)
	}
	start := time.Now()
	res := s.Run(context.Background(), bad).Result
	wantKind(t, res, workflow.KindQuarantined)
	if !strings.Contains(res.Error.Message, "quarantined") {
		t.Errorf("message %q", res.Error.Message)
	}
	t.Logf("quarantined run answered in %v", time.Since(start))
	if qs := s.Quarantines(); len(qs) != 1 || qs[0].Digest != digest {
		t.Errorf("Quarantines() = %+v", qs)
	}
	wantOK(t, s.Run(context.Background(), busyRequest(1)).Result) // other bundles run
	if !s.Release(digest) {
		t.Error("Release found no quarantine")
	}
	wantOK(t, s.Run(context.Background(), bad).Result)
}

func TestCancelStopsTheRun(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res := s.Run(ctx, busyRequest(1500)).Result
	if res.Status != workflow.StatusFailed {
		t.Fatalf("a cancelled run %+v", res)
	}
	wantOK(t, s.Run(context.Background(), busyRequest(1)).Result)
}

func TestCloseStopsWorkers(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	wantOK(t, s.Run(context.Background(), busyRequest(1)).Result)
	s.mu.Lock()
	var ws []*worker
	for w := range s.live {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	if len(ws) != 1 {
		t.Fatalf("%d live workers, want 1", len(ws))
	}
	s.Close()
	select {
	case <-ws[0].exited:
	case <-time.After(time.Minute):
		t.Fatal("the worker still runs after Close")
	}
	wantKind(t, s.Run(context.Background(), busyRequest(1)).Result, workflow.KindInternal)
}

func TestBundleResentWhenTheWorkerLacksIt(t *testing.T) {
	s, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	wantOK(t, s.Run(context.Background(), claimsRequest()).Result)
	other := busyRequest(1)
	s.mu.Lock()
	for w := range s.live {
		w.sent(runtime.Digest(other.Code, nil)) // the supervisor wrongly believes the worker has it
	}
	s.mu.Unlock()
	wantOK(t, s.Run(context.Background(), other).Result)
	if len(s.Quarantines()) != 0 {
		t.Error("a resend counted as a kill")
	}
}

func TestEmptyBundleIsALoadFailureNotACrash(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	for range 4 { // more than QuarantineAfter: none of these may count as a kill
		res := s.Run(context.Background(), &Request{Settings: tokenSettings}).Result
		if res.Status != workflow.StatusFailed || res.Error == nil || slices.Contains(contained, res.Error.Kind) || res.Error.Kind == workflow.KindQuarantined {
			b, _ := json.Marshal(res)
			t.Fatalf("empty bundle: %s", b)
		}
	}
}

func TestCloseDuringARunIsNotTheWorkflowsFault(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	req := busyRequest(120_000) // only the Close ends it
	req.WallTime = 5 * time.Minute
	done := make(chan *workflow.Result)
	go func() { done <- s.Run(context.Background(), req).Result }()
	for deadline := time.Now().Add(time.Minute); len(s.busyPIDs()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the run never started")
		}
	}
	s.Close()
	res := <-done
	wantKind(t, res, workflow.KindInternal)
	if _, q := s.Quarantined(Digest(req.Code, nil)); q || len(s.kills) != 0 {
		t.Errorf("a shutdown counted as a kill: %v", s.kills)
	}
}

// TestChaos kills random busy workers while many invocations run: each
// one either succeeds or fails as sandbox-crashed, no request slot leaks,
// and the supervisor serves normally afterwards.
func TestChaos(t *testing.T) {
	s, _ := newSupervisor(t, func(o *Options) { o.Workers = 2; o.QuarantineAfter = 1 << 20 })
	stop := make(chan struct{})
	killed := make(chan int)
	go func() {
		n := 0
		defer func() { killed <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			if pids := s.busyPIDs(); len(pids) > 0 {
				if p, err := os.FindProcess(pids[n%len(pids)]); err == nil && p.Kill() == nil {
					n++
				}
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				req := busyRequest(5 + (g+i)%20)
				if i%2 == 0 {
					req = claimsRequest()
				}
				res := s.Run(context.Background(), req).Result
				key := res.Status
				if res.Error != nil {
					key += "/" + string(res.Error.Kind)
				}
				mu.Lock()
				counts[key]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	n := <-killed
	t.Logf("%d workers killed; results %v", n, counts)
	crashed := counts[workflow.StatusFailed+"/"+string(workflow.KindSandboxCrashed)]
	for k := range counts {
		if k != workflow.StatusSucceeded && k != workflow.StatusFailed+"/"+string(workflow.KindSandboxCrashed) {
			t.Errorf("unexpected result %q", k)
		}
	}
	if crashed > n {
		t.Errorf("%d invocations failed for %d killed workers: a kill must fail at most the one it interrupts", crashed, n)
	}
	if n := s.slots.inUse(); n != 0 {
		t.Errorf("%d request slots leaked", n)
	}
	wantOK(t, s.Run(context.Background(), claimsRequest()).Result)
}

func TestWorkerDeadWhileIdleIsReplaced(t *testing.T) {
	s, _ := newSupervisor(t, func(o *Options) { o.Workers = 1 })
	wantOK(t, s.Run(context.Background(), claimsRequest()).Result)
	s.mu.Lock()
	w := s.idle[0]
	s.mu.Unlock()
	w.kill()
	<-w.exited
	wantOK(t, s.Run(context.Background(), claimsRequest()).Result)
}

func TestWorkerThatDoesNotStart(t *testing.T) {
	tests := []struct{ name, script string }{
		{"prints usage", "echo 'usage: flowgate <command>'; sleep 0.2"},
		{"exits", "echo oops >&2; exit 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newSupervisor(t, func(o *Options) { o.Command = []string{"/bin/sh", "-c", tc.script} })
			for range 4 { // past QuarantineAfter: a host problem must not quarantine the workflow
				res := s.Run(context.Background(), claimsRequest()).Result
				wantKind(t, res, workflow.KindInternal)
				if !strings.Contains(res.Error.Message, "MaybeWorker") {
					t.Errorf("message %q does not say what to fix", res.Error.Message)
				}
			}
			if len(s.Quarantines()) != 0 {
				t.Error("a worker that cannot start quarantined the workflow")
			}
		})
	}
}
