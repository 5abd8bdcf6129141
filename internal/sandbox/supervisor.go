package sandbox

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/procstat"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/workflow"
)

// memInterval is how often a busy worker's resident memory is read.
const memInterval = 5 * time.Millisecond

// retireCheckEvery is how often (in requests) an idle worker's memory is
// checked; one that kept more than half its ceiling is replaced.
const retireCheckEvery = 16

// startTimeout bounds a worker's start, up to its "ready".
const startTimeout = 30 * time.Second

// exitWait bounds waiting for a dead worker's exit status and stderr.
const exitWait = 5 * time.Second

// Supervisor runs workflow code in worker processes: the same binary
// re-executed with a marker MaybeWorker detects, talking frames over its
// stdin and stdout. Each worker runs one request at a time; up to
// Options.Workers run at once, started on demand and kept warm. A worker
// that crashes, runs past its deadline (wall time + grace) or grows past
// its memory ceiling is killed and replaced: that request fails with
// error.kind sandbox-crashed, timeout or memory, the others carry on. A
// bundle that kills workers QuarantineAfter times within QuarantineWindow
// is quarantined. It is safe for concurrent use.
type Supervisor struct {
	opts   Options
	argv   []string
	config []byte     // the configuration frame every worker gets first
	slots  *fairSlots // one per running request, shared fairly between scopes
	digest digestMemo // bundles' digests, so a bundle is not hashed per call
	meta   metaMemo   // the per-workflow part of requests, encoded (metamemo.go)

	mu     sync.Mutex
	idle   []*worker
	live   map[*worker]struct{}
	closed bool
	kills  map[string][]time.Time // recent kills by bundle digest
	quar   map[string]Quarantine
	stats  Stats

	// onCall, when set (tests), is told each request's highest sampled
	// worker RSS and its duration.
	onCall func(peakRSS uint64, elapsed time.Duration)
}

var _ Runner = (*Supervisor)(nil)

// Quarantine records why a bundle is no longer run.
type Quarantine struct {
	Digest string    `json:"digest"`
	Since  time.Time `json:"since"`
	Kills  int       `json:"kills"`  // worker kills within the window
	Reason string    `json:"reason"` // the last kill's cause, for operators
}

// Stats are the supervisor's counters since it started (for metrics).
type Stats struct {
	Workers  int                          `json:"workers"`  // running worker processes
	Busy     int                          `json:"busy"`     // of which running a request
	Started  int64                        `json:"started"`  // worker processes started
	Stopped  map[workflow.ErrorKind]int64 `json:"stopped"`  // workers lost while running a request, by the kind it failed with
	Requests int64                        `json:"requests"` // requests answered by a worker
}

// Stats returns a snapshot of the counters.
func (s *Supervisor) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Workers, st.Busy = len(s.live), len(s.live)-len(s.idle)
	st.Stopped = make(map[workflow.ErrorKind]int64, len(s.stats.Stopped))
	for k, v := range s.stats.Stopped {
		st.Stopped[k] = v
	}
	return st
}

// maxKillRecords bounds the kill history (digests with recent kills).
const maxKillRecords = 10000

// NewSupervisor returns a Supervisor; workers start lazily on first use.
// The error is for an executable that cannot be found.
func NewSupervisor(opts Options) (*Supervisor, error) {
	opts = opts.withDefaults()
	if opts.Workers <= 0 {
		opts.Workers = goruntime.GOMAXPROCS(0)
	}
	argv := opts.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("sandbox: find the executable to start workers from: %w", err)
		}
		argv = []string{exe}
	}
	cfg, err := json.Marshal(workerConfig{
		Limits:        opts.Limits,
		MaxStack:      opts.MaxStack,
		SoftMemory:    workerSoftMemory(opts.MemoryCeiling),
		AddressSpace:  opts.AddressSpace,
		BundleEntries: bundleEntries,
		GCPercent:     workerGCPercent,
		MaxProcs:      1,
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: encode worker configuration: %w", err)
	}
	return &Supervisor{
		opts: opts, argv: argv, config: cfg,
		slots: newFairSlots(opts.Workers),
		live:  map[*worker]struct{}{},
		kills: map[string][]time.Time{},
		quar:  map[string]Quarantine{},
	}, nil
}

// workerGCPercent lets a worker's heap grow 16× between collections: a
// worker's live heap is small (its pooled runtimes), most of what a run
// allocates is garbage by its end, and the soft memory limit
// (workerSoftMemory) caps the heap long before the ceiling.
const workerGCPercent = 1600

// workerSoftMemory is a worker's soft memory limit (debug.SetMemoryLimit)
// for a ceiling: a quarter of it, above a run's memory budget plus the
// pooled runtimes and below the half of the ceiling where an idle worker
// is retired.
func workerSoftMemory(ceiling uint64) int64 { return int64(ceiling / 4) }

// bundleEntries is how many bundles a worker caches (the supervisor
// remembers which it sent, up to the same number).
const bundleEntries = 64

// Run invokes req in a worker process.
func (s *Supervisor) Run(ctx context.Context, req *Request) Response {
	return s.run(ctx, msgRun, req)
}

// run sends req as a message of type typ (msgRun, or a test hook's).
func (s *Supervisor) run(ctx context.Context, typ byte, req *Request) Response {
	sum, digest := s.digest.get(req.Code, req.SourceMap)
	if q, ok := s.Quarantined(digest); ok {
		return Response{Result: failed(req, workflow.KindQuarantined, quarantineMessage(q))}
	}
	meta, err := s.meta.encode(req)
	if err != nil {
		return Response{Result: failed(req, workflow.KindInternal, "sandbox: encode request: "+err.Error())}
	}
	w, err := s.acquire(ctx, req.CacheScope)
	if err != nil {
		return Response{Result: failed(req, acquireKind(err), "sandbox: "+err.Error())}
	}
	wall := cutToDeadline(ctx, wallTime(req.WallTime, s.opts.Limits))
	limit := wall + s.opts.Grace
	sent := w.has(sum)
	for attempt := 0; ; attempt++ {
		// The wall time is cut to ctx's deadline (the worker cannot see
		// ctx); the bundle goes only to a worker that lacks it.
		w.seq++
		m := runMsg{Seq: w.seq, WallTime: wall, HasCode: !sent, Digest: sum, Meta: meta, Request: req}
		w.buf = appendRun(w.buf[:0], &m)
		if len(w.buf)+1 > maxRequestFrame {
			w.buf = nil
			s.release(w, true)
			return Response{Result: failed(req, workflow.KindLoad, fmt.Sprintf("the workflow's bundle is too large to run (%d MiB)", (len(req.Code)+len(req.SourceMap))>>20))}
		}
		f, fail := s.call(ctx, w, typ, w.buf, limit, req)
		if cap(w.buf) > 1<<20 {
			w.buf = nil // a bundle was sent: don't keep its copy
		}
		if fail != nil {
			s.failed(w, digest, req.Settings.ID, fail)
			return Response{Result: failed(req, fail.kind, fail.message)}
		}
		if f.typ == msgNeedBundle {
			if sent && attempt == 0 {
				sent = false // the worker evicted it: send it again
				continue
			}
			s.release(w, true)
			return Response{Result: failed(req, workflow.KindInternal, "sandbox: the worker lost the bundle it was just sent")}
		}
		var resp Response
		var derr error
		switch f.typ {
		case msgResultBin:
			resp, derr = decodeResult(f.body)
		case msgResult:
			derr = json.Unmarshal(f.body, &resp)
		default:
			derr = errBadAnswer
		}
		if derr != nil || resp.Result == nil {
			// The worker answers every Result it can make with a frame
			// the supervisor reads, so this is a Flowgate bug; the
			// worker is replaced and the kill counted all the same, so
			// a bundle that keeps causing it is quarantined.
			s.opts.Logger.Error("sandbox: a worker answered an unreadable frame", "workflow_id", req.Settings.ID, "type", string(rune(f.typ)))
			s.failed(w, digest, req.Settings.ID, &failure{kind: workflow.KindInternal, message: "the worker's answer could not be read"})
			return Response{Result: failed(req, workflow.KindInternal, "sandbox: the worker's answer could not be read")}
		}
		w.sent(sum)
		s.release(w, true)
		return resp
	}
}

// ReadSettings reads a workflow's settings in a worker process. A worker
// killed meanwhile is a located diagnostic (rule top-level-error).
func (s *Supervisor) ReadSettings(ctx context.Context, in project.InspectInput) project.Introspection {
	return s.readSettings(ctx, msgInspect, in)
}

// readSettings sends in as a message of type typ (msgInspect, or a test
// hook's).
func (s *Supervisor) readSettings(ctx context.Context, typ byte, in project.InspectInput) project.Introspection {
	digest := Digest(in.Code, in.SourceMap)
	if q, ok := s.Quarantined(digest); ok {
		return inspectFailed(in, quarantineMessage(q))
	}
	w, err := s.acquire(ctx, "")
	if err != nil {
		return inspectFailed(in, "reading the workflow's settings was not started: "+err.Error())
	}
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = project.SettingsTimeout
	}
	in.Timeout = cutToDeadline(ctx, timeout)
	js, err := json.Marshal(in)
	w.seq++
	body := append(binary.BigEndian.AppendUint64(nil, w.seq), js...)
	if err != nil {
		s.release(w, true)
		return inspectFailed(in, "encode the settings request: "+err.Error())
	}
	f, fail := s.call(ctx, w, typ, body, in.Timeout+s.opts.Grace, nil)
	if fail != nil {
		s.failed(w, digest, "", fail)
		return inspectFailed(in, "reading the workflow's settings: "+fail.message+
			". Top-level code runs once when settings are read: it must not recurse, loop or allocate without bound")
	}
	var out project.Introspection
	if f.typ != msgIntrospect || json.Unmarshal(f.body, &out) != nil {
		s.opts.Logger.Error("sandbox: a worker answered an unreadable frame", "file", in.File, "type", string(rune(f.typ)))
		s.failed(w, digest, "", &failure{kind: workflow.KindInternal, message: "the worker's answer could not be read"})
		return inspectFailed(in, "reading the workflow's settings failed inside Flowgate (an unreadable answer from its sandbox process); please report it")
	}
	s.release(w, true)
	return out
}

// cutToDeadline shortens a wall time to what is left before ctx's
// deadline (at least a millisecond, so the worker still answers).
func cutToDeadline(ctx context.Context, wall time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		wall = min(wall, max(time.Until(dl), time.Millisecond))
	}
	return wall
}

// inspectFailed is an Introspection holding one located error.
func inspectFailed(in project.InspectInput, msg string) project.Introspection {
	return project.Introspection{Diagnostics: []diag.Diagnostic{
		diag.New(project.RuleTopLevelError, in.File, 1, 1, "%s", msg),
	}}
}

func quarantineMessage(q Quarantine) string {
	return fmt.Sprintf("the workflow is quarantined: it stopped %d sandbox processes since %s (last: %s); deploy a changed version to run it again",
		q.Kills, q.Since.UTC().Format(time.RFC3339), q.Reason)
}

var errClosed = errors.New("the sandbox is closed")

func acquireKind(err error) workflow.ErrorKind {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return workflow.KindTimeout
	}
	return workflow.KindInternal
}

// acquire takes a request slot and an idle worker, starting one if none
// is idle.
func (s *Supervisor) acquire(ctx context.Context, scope string) (*worker, error) {
	if err := s.slots.acquire(ctx, scope); err != nil {
		return nil, fmt.Errorf("waiting for a sandbox process: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.slots.release(scope)
		return nil, errClosed
	}
	for n := len(s.idle); n > 0; n = len(s.idle) {
		w := s.idle[n-1]
		s.idle = s.idle[:n-1]
		select {
		case <-w.exited:
			// It died idle (killed from outside, OOM killer): not this
			// request's doing, so don't hand it over.
			delete(s.live, w)
			w.closePipes()
			continue
		default:
		}
		s.mu.Unlock()
		w.scope = scope
		return w, nil
	}
	s.mu.Unlock()
	w, err := s.start()
	if err != nil {
		s.slots.release(scope)
		return nil, err
	}
	w.scope = scope
	return w, nil
}

// release returns a worker after a request. A healthy worker goes back to
// the idle list unless it grew large (then it is retired); any other is
// stopped.
func (s *Supervisor) release(w *worker, healthy bool) {
	defer s.slots.release(w.scope)
	if healthy {
		w.uses++
		if w.uses%retireCheckEvery == 0 {
			if n, ok := procstat.RSS(w.pid); ok && n > s.opts.MemoryCeiling/2 {
				healthy = false // a fresh one will start lean
			}
		}
	}
	s.mu.Lock()
	if healthy {
		s.stats.Requests++
	}
	if healthy && !s.closed {
		s.idle = append(s.idle, w)
		s.mu.Unlock()
		return
	}
	delete(s.live, w)
	s.mu.Unlock()
	w.stop()
}

// failure is why a request got no answer.
type failure struct {
	kind    workflow.ErrorKind
	message string // for users: no stderr, no request data
	detail  string // for the debug log: exit status, stderr (redacted)
}

// failed records that w was lost running bundle digest: it is discarded,
// the kill counted towards quarantine and logged at debug.
func (s *Supervisor) failed(w *worker, digest, workflowID string, f *failure) {
	w.kill()
	s.mu.Lock()
	if s.stats.Stopped == nil {
		s.stats.Stopped = map[workflow.ErrorKind]int64{}
	}
	s.stats.Stopped[f.kind]++
	s.mu.Unlock()
	s.release(w, false)
	s.opts.Logger.Debug("sandbox worker stopped", "workflow_id", workflowID, "digest", digest,
		"pid", w.pid, "kind", string(f.kind), "reason", f.message, "detail", f.detail)
	if f.detail == "closed" {
		return // shut down: not the workflow's doing
	}
	// A cancelled call counts too: the worker was told to stop and given
	// the grace period, so only code that ignores the interrupt is killed.
	s.recordKill(digest, f)
}

// recordKill counts a kill and quarantines the bundle past the threshold.
func (s *Supervisor) recordKill(digest string, f *failure) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.kills) >= maxKillRecords {
		for d, ts := range s.kills {
			if now.Sub(ts[len(ts)-1]) > s.opts.QuarantineWindow {
				delete(s.kills, d)
			}
		}
		if len(s.kills) >= maxKillRecords {
			clear(s.kills)
		}
	}
	recent := s.kills[digest][:0:0]
	for _, t := range s.kills[digest] {
		if now.Sub(t) <= s.opts.QuarantineWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	s.kills[digest] = recent
	if len(recent) >= s.opts.QuarantineAfter {
		if _, ok := s.quar[digest]; !ok {
			s.opts.Logger.Warn("sandbox: workflow quarantined", "digest", digest, "kills", len(recent), "reason", f.message)
		}
		s.quar[digest] = Quarantine{Digest: digest, Since: now, Kills: len(recent), Reason: string(f.kind) + ": " + f.message}
	}
}

func (s *Supervisor) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Quarantined reports whether the bundle with this digest is quarantined,
// and why.
func (s *Supervisor) Quarantined(digest string) (Quarantine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.quar[digest]
	return q, ok
}

// Quarantines lists the quarantined bundles, oldest first.
func (s *Supervisor) Quarantines() []Quarantine {
	s.mu.Lock()
	out := make([]Quarantine, 0, len(s.quar))
	for _, q := range s.quar {
		out = append(out, q)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

// Release lifts a quarantine and forgets the bundle's kills; it reports
// whether the bundle was quarantined.
func (s *Supervisor) Release(digest string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.quar[digest]
	delete(s.quar, digest)
	delete(s.kills, digest)
	return ok
}

// Close stops every worker; requests running meanwhile fail. It waits
// for the workers to exit.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	s.closed = true
	ws := make([]*worker, 0, len(s.live))
	for w := range s.live {
		ws = append(ws, w)
	}
	idle := s.idle
	s.idle = nil
	clear(s.live)
	s.mu.Unlock()
	for _, w := range ws {
		w.kill()
	}
	for _, w := range ws {
		select {
		case <-w.exited:
		case <-time.After(exitWait):
		}
	}
	for _, w := range idle {
		w.closePipes()
	}
	return nil
}

// call sends one request frame to w and reads its answer on this
// goroutine. Timers kill w meanwhile at the deadline, at the memory
// ceiling (sampled every memInterval), and a grace period after ctx ends;
// the read then fails and the recorded reason becomes the failure. req
// (nil for other messages) names the secrets kept out of a crash log.
func (s *Supervisor) call(ctx context.Context, w *worker, typ byte, body []byte, limit time.Duration, req *Request) (frame, *failure) {
	c := &callState{w: w}
	start := time.Now()
	deadline := start.Add(limit)
	var peak uint64
	check := func() {
		// The ceiling first: a check that runs late on a busy machine
		// finds a worker past both, and its memory is what stopped it.
		if n, ok := procstat.RSS(w.pid); ok {
			c.mu.Lock()
			peak = max(peak, n)
			c.mu.Unlock()
			if n > s.opts.MemoryCeiling {
				c.stop(&failure{kind: workflow.KindMemory, message: fmt.Sprintf(
					"memory limit exceeded: the workflow's sandbox process grew past its %d MiB ceiling and was stopped", s.opts.MemoryCeiling>>20),
					detail: fmt.Sprintf("rss %d bytes", n)})
				return
			}
		}
		now := time.Now()
		if !now.Before(deadline) {
			c.stop(&failure{kind: workflow.KindTimeout, message: fmt.Sprintf(
				"execution time exceeded: the workflow did not stop within its wall time plus %s grace, so its sandbox process was stopped", s.opts.Grace)})
			return
		}
		c.mu.Lock()
		if !c.done {
			c.timer.Reset(min(deadline.Sub(now), memInterval))
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.timer = time.AfterFunc(min(limit, memInterval), check)
	c.mu.Unlock()
	if ctx.Done() != nil {
		seq := w.seq
		stop := context.AfterFunc(ctx, func() {
			// The worker is told to stop this request (its wall time was
			// already cut to the context's deadline) and gets the grace
			// period to answer.
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], seq)
			_, _ = w.ctrl.Write(b[:])
			time.AfterFunc(s.opts.Grace, func() {
				c.stop(&failure{kind: workflow.KindTimeout, detail: "cancelled",
					message: "execution cancelled: the workflow did not stop within the grace period, so its sandbox process was stopped"})
			})
		})
		defer stop()
	}
	var f frame
	err := writeFrame(w.in, typ, body)
	if err == nil {
		f, err = readFrame(w.out, maxAnswerFrame)
	}
	c.mu.Lock()
	c.done = true
	c.timer.Stop()
	why := c.why
	c.mu.Unlock()
	if s.onCall != nil {
		if n, ok := procstat.RSS(w.pid); ok {
			peak = max(peak, n)
		}
		s.onCall(peak, time.Since(start))
	}
	switch {
	case err == nil && why == nil:
		return f, nil
	case why != nil:
		return frame{}, why
	case s.isClosed():
		return frame{}, &failure{kind: workflow.KindInternal, detail: "closed",
			message: "the sandbox was closed while the workflow ran"}
	}
	return frame{}, s.lost(w, secretsOf(req))
}

// callState is one request's race between its answer and its timers.
type callState struct {
	w     *worker
	mu    sync.Mutex
	timer *time.Timer
	done  bool     // the answer was read (or the read failed)
	why   *failure // set by the timer that killed the worker
}

// stop kills the worker for f unless the call already ended.
func (c *callState) stop(f *failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || c.why != nil {
		return
	}
	c.why = f
	c.w.kill()
}

// lost describes a worker that died on its own (its pipe broke).
func (s *Supervisor) lost(w *worker, secrets []string) *failure {
	w.kill() // a broken pipe without an exit: make sure
	select {
	case <-w.exited:
	case <-time.After(exitWait):
	}
	stderr := redact(w.stderr.String(), secrets)
	status := "killed"
	if w.waitErr != nil {
		status = w.waitErr.Error()
	}
	f := &failure{kind: workflow.KindSandboxCrashed, detail: status + "; stderr: " + stderr}
	switch {
	case strings.Contains(stderr, "stack overflow") || strings.Contains(stderr, "stack exceeds"):
		f.message = "the workflow crashed its sandbox process: a built-in recursed past the native stack limit (a cyclic or very deeply nested value passed to a built-in?)"
	case strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory") ||
		strings.Contains(stderr, "address space collisions"): // the last: race-detector builds
		f.kind = workflow.KindMemory
		f.message = "memory limit exceeded: the workflow's sandbox process ran out of memory and was stopped"
	default:
		f.message = "the workflow's sandbox process died (" + status + ")"
	}
	return f
}

// redact removes secret values from worker stderr before it is logged.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return s
}

// secretsOf lists a request's values that must not reach a log (none
// for no request).
func secretsOf(req *Request) []string {
	if req == nil {
		return nil
	}
	out := append([]string(nil), req.Redact...)
	for _, v := range req.Env {
		if v.IsSecret {
			out = append(out, v.Value)
		}
	}
	if len(req.EncryptionKey) > 0 {
		out = append(out, string(req.EncryptionKey))
	}
	return out
}

// worker is one worker process. Its pipes are used by the goroutine
// holding it (acquire/release), one request at a time.
type worker struct {
	cmd     *exec.Cmd
	pid     int
	stdin   *os.File
	in      *bufio.Writer
	stdout  *os.File
	out     *bufio.Reader
	ctrl    *os.File      // the cancel pipe: sequence numbers of requests to stop
	exited  chan struct{} // closed once the process was reaped
	waitErr error         // valid after exited
	stderr  *headTail

	uses  int    // requests answered; owned by whoever holds the worker
	scope string // the scope of the request it runs, for its slot
	seq   uint64 // the last request's sequence number; owned likewise
	buf   []byte // the request being encoded; owned likewise

	mu       sync.Mutex
	bundles  map[[32]byte]struct{} // digests sent to it
	killOnce sync.Once
}

// start starts a worker with an empty environment but the marker.
func (s *Supervisor) start() (*worker, error) {
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = []string{workerEnv + "=" + workerVersion}
	cmd.Dir = os.TempDir() // it reads no files; keep it out of the repository
	setProcAttr(cmd)
	w := &worker{cmd: cmd, exited: make(chan struct{}), stderr: &headTail{max: 4 << 10}, bundles: map[[32]byte]struct{}{}}
	cmd.Stderr = w.stderr
	// Our own pipes, not StdinPipe/StdoutPipe: Wait must not close them
	// under a read in progress.
	inR, inW, err := blockingPipe()
	if err != nil {
		return nil, fmt.Errorf("start a sandbox process: %w", err)
	}
	outR, outW, err := blockingPipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("start a sandbox process: %w", err)
	}
	ctrlR, ctrlW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("start a sandbox process: %w", err)
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	cmd.ExtraFiles = []*os.File{ctrlR} // fd 3
	err = cmd.Start()
	inR.Close()
	outW.Close() // the worker holds the write end: its exit ends our reads
	ctrlR.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		ctrlW.Close()
		return nil, fmt.Errorf("start a sandbox process: %w", err)
	}
	w.ctrl = ctrlW
	w.pid = cmd.Process.Pid
	w.stdin, w.in = inW, bufio.NewWriterSize(inW, 64<<10)
	w.stdout, w.out = outR, bufio.NewReaderSize(outR, 64<<10)
	go func() {
		w.waitErr = cmd.Wait()
		close(w.exited)
	}()
	// The worker answers its configuration with "ready": a binary whose
	// main does not call MaybeWorker fails here, as an internal error, not
	// as a crash blamed on the first workflow it would have run.
	f, fail := s.call(context.Background(), w, msgConfig, s.config, startTimeout, nil)
	if fail != nil || f.typ != msgReady {
		w.kill()
		select {
		case <-w.exited:
		case <-time.After(exitWait):
		}
		w.closePipes()
		why := "it answered something else"
		if fail != nil {
			why = strings.TrimSpace(fail.detail)
			if why == "" {
				why = fail.message
			}
		}
		if len(why) > 300 {
			why = why[:300] + "…"
		}
		return nil, fmt.Errorf("a sandbox process did not start (%s): the executable's main must call sandbox.MaybeWorker first", why)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		w.kill()
		w.closePipes()
		return nil, errClosed
	}
	s.live[w] = struct{}{}
	s.stats.Started++
	s.mu.Unlock()
	return w, nil
}

// kill ends the process at once (SIGKILL). Safe from any goroutine.
func (w *worker) kill() {
	w.killOnce.Do(func() { _ = w.cmd.Process.Kill() })
}

// closePipes releases our pipe ends once nobody uses them.
func (w *worker) closePipes() {
	_ = w.stdin.Close()
	_ = w.stdout.Close()
	_ = w.ctrl.Close()
}

// stop ends a worker nobody uses: it exits when its stdin closes; it is
// killed after a bound in case it does not.
func (w *worker) stop() {
	_ = w.stdin.Close()
	go func() {
		select {
		case <-w.exited:
		case <-time.After(exitWait):
			w.kill()
		}
		_ = w.stdout.Close()
		_ = w.ctrl.Close()
	}()
}

func (w *worker) has(digest [32]byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.bundles[digest]
	return ok
}

func (w *worker) sent(digest [32]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.bundles) >= bundleEntries {
		clear(w.bundles) // the worker evicts on its own; NeedBundle recovers
	}
	w.bundles[digest] = struct{}{}
}

// headTail keeps the first and last max bytes written to it: a Go crash
// names its cause at the top, a panic's value may come last.
type headTail struct {
	mu   sync.Mutex
	max  int
	head []byte
	tail []byte
	cut  bool
}

func (h *headTail) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(p)
	if room := h.max - len(h.head); room > 0 {
		k := min(room, len(p))
		h.head = append(h.head, p[:k]...)
		p = p[k:]
	}
	if len(p) > 0 {
		h.tail = append(h.tail, p...)
		if len(h.tail) > h.max {
			h.cut = true
			h.tail = append(h.tail[:0], h.tail[len(h.tail)-h.max:]...)
		}
	}
	return n, nil
}

func (h *headTail) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cut {
		return string(h.head) + "\n…\n" + string(h.tail)
	}
	return string(h.head) + string(h.tail)
}

// WorkerCPU is the CPU time (user + system) the live worker processes have
// used so far, where the system tells (Linux); benchmarks add it to their
// own to compare the supervised path with the in-process one.
func (s *Supervisor) WorkerCPU() time.Duration {
	var total time.Duration
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.live {
		if t, ok := cpuTicks(w.pid); ok {
			total += time.Duration(t) * 10 * time.Millisecond // USER_HZ is 100 on Linux
		}
	}
	return total
}
