// Package builder runs everything that parses repository content — the
// npm import scan, esbuild bundling with its tsconfig.json and
// package.json resolution, reading workflowSettings, the undefined-name
// analysis — in a supervised builder process: this executable started
// again (MaybeBuilder), one process per job, with a capped Go stack, a
// memory ceiling (RSS sampled by the caller, RLIMIT_AS and a soft Go
// memory limit in the builder), a CPU-time limit (RLIMIT_CPU), a deadline,
// an empty environment and, where the kernel allows, no network.
//
// A builder that crashes (a parser recursing past its stack: Go's
// "fatal error: stack overflow", which no recover catches), runs past its
// limits or grows past its ceiling fails that check with a located
// build-crashed diagnostic, in the file it was reading; the caller keeps
// running. Content whose builds keep killing builders is quarantined by
// its digest.
package builder

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/procstat"
	"github.com/flowgate/flowgate/internal/project"
)

// Defaults of Options.
const (
	DefaultTimeout          = 2 * time.Minute
	DefaultCPUTime          = 60 * time.Second
	DefaultMemoryCeiling    = 1 << 30
	DefaultMaxStack         = 64 << 20
	DefaultQuarantineAfter  = 3
	DefaultQuarantineWindow = 10 * time.Minute
	DefaultQuarantineFor    = time.Hour
	// MaxOutput bounds what one builder may write back (the report holds
	// every bundle and source map).
	MaxOutput = 256 << 20
	// retries is how many times a check is run again without the
	// workflows whose settings or analysis crashed a builder.
	retries    = 2
	startGrace = 10 * time.Second
	sampleRSS  = 10 * time.Millisecond
)

// Options configure a Builder; the zero value takes the defaults.
type Options struct {
	// Command is the builder's argv; default this executable.
	Command []string
	// Timeout is a job's wall time, cut to the caller's deadline.
	Timeout time.Duration
	// CPUTime is a builder's CPU time (RLIMIT_CPU, whole seconds).
	CPUTime time.Duration
	// MemoryCeiling is the RSS above which a builder is killed; its soft
	// Go memory limit is ¾ of it and its address space ceiling + 4 GiB (a
	// Go process reserves far more address space than it uses).
	MemoryCeiling uint64
	// MaxStack is a builder's Go max stack (debug.SetMaxStack).
	MaxStack int
	// Concurrency is how many builders run at once (default GOMAXPROCS).
	Concurrency int
	// QuarantineAfter kills of builders by the same content within
	// QuarantineWindow quarantine it for QuarantineFor.
	QuarantineAfter  int
	QuarantineWindow time.Duration
	QuarantineFor    time.Duration
	// Logger gets what builders wrote on stderr, at debug level.
	Logger *slog.Logger
}

// Builder starts builder processes. It is safe for concurrent use.
type Builder struct {
	opts Options
	argv []string
	slot chan struct{}

	mu         sync.Mutex
	noIsolate  bool // namespaces were refused once: start without them
	kills      map[string][]time.Time
	quarantine map[string]quarantined
	stats      Stats
}

type quarantined struct {
	until  time.Time
	reason string
}

// Stats counts builders, for metrics.
type Stats struct {
	Started  int            `json:"started"`
	Lost     map[string]int `json:"lost"` // by kind: crash, timeout, cpu, memory
	Refused  int            `json:"refused"`
	Isolated bool           `json:"isolated"` // builders run without network
}

// New returns a Builder.
func New(opts Options) (*Builder, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.CPUTime <= 0 {
		opts.CPUTime = DefaultCPUTime
	}
	if opts.MemoryCeiling == 0 {
		opts.MemoryCeiling = DefaultMemoryCeiling
	}
	if opts.MaxStack <= 0 {
		opts.MaxStack = DefaultMaxStack
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.QuarantineAfter <= 0 {
		opts.QuarantineAfter = DefaultQuarantineAfter
	}
	if opts.QuarantineWindow <= 0 {
		opts.QuarantineWindow = DefaultQuarantineWindow
	}
	if opts.QuarantineFor <= 0 {
		opts.QuarantineFor = DefaultQuarantineFor
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	argv := opts.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("builder: find this executable: %w", err)
		}
		argv = []string{exe}
	}
	return &Builder{
		opts: opts, argv: argv, slot: make(chan struct{}, opts.Concurrency),
		noIsolate: !canIsolate, kills: map[string][]time.Time{}, quarantine: map[string]quarantined{},
		stats: Stats{Lost: map[string]int{}},
	}, nil
}

// Stats returns a copy of the counters.
func (b *Builder) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Lost = map[string]int{}
	for k, v := range b.stats.Lost {
		s.Lost[k] = v
	}
	s.Isolated = !b.noIsolate
	return s
}

// Check is project.Check in a builder process. opts.Inspector is not
// used: the builder reads settings itself, in its own sandbox. The error
// is for what is not the repository's fault (the caller's context ended,
// no builder could start, the folder cannot be read); everything the
// repository did, a crash included, is a diagnostic in the Report.
func (b *Builder) Check(ctx context.Context, dir string, opts project.Options) (*project.Report, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	req := request{Op: opCheck, Dir: root, PackageDirs: opts.PackageDirs, SettingsTimeout: opts.SettingsTimeout,
		Parallelism: opts.Parallelism, Crashed: map[string]string{}}
	for f, why := range opts.Crashed {
		req.Crashed[f] = why
	}
	for attempt := 0; ; attempt++ {
		out, err := b.run(ctx, root, req)
		if err != nil {
			return nil, err
		}
		if out.death == nil {
			if out.result.Error != "" {
				return nil, errors.New(out.result.Error)
			}
			if out.result.Report == nil {
				return nil, errors.New("builder: the builder answered without a report")
			}
			return out.result.Report, nil
		}
		d := out.death
		// A crash while one workflow's settings or analysis were read is
		// that workflow's: check again without it, so the others are
		// still checked.
		if d.step == project.StepSettings || d.step == project.StepAnalyze {
			if _, seen := req.Crashed[d.file]; !seen && attempt < retries && !d.quarantined {
				req.Crashed[d.file] = d.message()
				continue
			}
		}
		return crashReport(root, out.files, d), nil
	}
}

// ScanImports is npm.ScanImports in a builder process; it has the shape
// of npm.ScanFunc (npm.Options.ScanImports). A crash is a located
// build-crashed diagnostic and no imports.
func (b *Builder) ScanImports(ctx context.Context, root string, entries []string) ([]npm.ImportRef, []diag.Diagnostic, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	out, err := b.run(ctx, abs, request{Op: opScan, Dir: abs, Entries: entries})
	if err != nil {
		return nil, nil, err
	}
	if out.death != nil {
		return nil, []diag.Diagnostic{out.death.diagnostic()}, nil
	}
	return out.result.Imports, nil, nil
}

var _ npm.ScanFunc = (*Builder)(nil).ScanImports

// outcome is how one builder ended: its last message, or how it died.
type outcome struct {
	result message
	files  []string // the workflow files it reported
	death  *death
}

// death says why a builder did not answer, and where it was.
type death struct {
	kind        string // crash, timeout, cpu, memory, quarantined
	detail      string // what the crash looked like, from fixed text
	step, file  string // the last step it started
	limit       string // the limit it passed, in words
	quarantined bool
}

func (d *death) where() string {
	if d.file == "" {
		return "the repository"
	}
	return d.file
}

// message explains the death to the repository's author, from fixed text.
func (d *death) message() string {
	const tail = " No workflow needs that: simplify the file (very deep nesting, thousands of chained operators, huge literals) and push again"
	var s string
	switch d.kind {
	case "quarantined":
		return fmt.Sprintf("this content is quarantined: builds of it crashed the builder process %s, so Flowgate does not build it again for now. The last crash was while reading %s. Change the file and push again (new content is built afresh)", d.detail, d.where())
	case "timeout":
		s = fmt.Sprintf("the build was stopped while reading %s: it ran longer than %s", d.where(), d.limit)
	case "cpu":
		s = fmt.Sprintf("the build was stopped while reading %s: it used more than %s of CPU time", d.where(), d.limit)
	case "memory":
		if d.limit == "" {
			s = fmt.Sprintf("the build was stopped while reading %s: %s", d.where(), d.detail)
		} else {
			s = fmt.Sprintf("the build was stopped while reading %s: it grew past the builder's memory ceiling of %s", d.where(), d.limit)
		}
	default:
		s = fmt.Sprintf("the build crashed while reading %s: %s", d.where(), d.detail)
	}
	return s + "." + tail
}

func (d *death) diagnostic() diag.Diagnostic {
	file := d.file
	if file == "" {
		file = project.KindeJSON
	}
	return diag.New(project.RuleBuildCrashed, file, 1, 1, "%s", d.message())
}

// crashReport is the Report of a check whose builder died outside one
// workflow's settings: every workflow fails with the one diagnostic.
func crashReport(root string, files []string, d *death) *project.Report {
	dg := d.diagnostic()
	r := &project.Report{Root: root, Diagnostics: []diag.Diagnostic{dg}}
	for _, f := range files {
		r.Workflows = append(r.Workflows, &project.Workflow{File: f, Diagnostics: []diag.Diagnostic{dg}})
	}
	return r
}

// errNotStarted is a builder that ended before it read the job: not the
// content's fault (the host killed it, say, under memory pressure).
var errNotStarted = errors.New("builder: the builder process ended before it started the job")

// run runs one job in a new builder process; a builder that ends before
// it starts the job is replaced once.
func (b *Builder) run(ctx context.Context, root string, req request) (outcome, error) {
	out, err := b.runOnce(ctx, root, req)
	if errors.Is(err, errNotStarted) {
		b.opts.Logger.Warn("a builder process ended before it started its job; starting another", "err", err)
		out, err = b.runOnce(ctx, root, req)
	}
	return out, err
}

func (b *Builder) runOnce(ctx context.Context, root string, req request) (outcome, error) {
	var digest string
	if b.anyQuarantined() {
		digest = Digest(root)
		if q, ok := b.quarantinedFor(digest); ok {
			return outcome{death: &death{kind: "quarantined", detail: q.reason, quarantined: true}}, nil
		}
	}
	select {
	case b.slot <- struct{}{}:
	case <-ctx.Done():
		return outcome{}, ctx.Err()
	}
	defer func() { <-b.slot }()

	timeout := b.opts.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	req.MaxStack = b.opts.MaxStack
	req.SoftMemory = int64(b.opts.MemoryCeiling / 4 * 3)
	req.AddressSpace = b.opts.MemoryCeiling + 4<<30
	req.CPUSeconds = uint64(max(1, b.opts.CPUTime/time.Second))

	p, err := b.start()
	if err != nil {
		return outcome{}, err
	}
	defer p.stdout.Close()
	defer p.kill()
	if err := json.NewEncoder(p.stdin).Encode(req); err != nil {
		p.kill()
		<-p.exited
		return outcome{}, fmt.Errorf("builder: send the job: %w (%s)", err, p.stderr.summary())
	}
	p.stdin.Close()

	// Read its messages on their own goroutine; watch the clock, the
	// context and its memory here.
	type line struct {
		m   message
		err error
	}
	lines := make(chan line, 64)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		beforeRead(p)
		dec := json.NewDecoder(bufio.NewReaderSize(io.LimitReader(p.stdout, MaxOutput), 64<<10))
		for {
			var m message
			err := dec.Decode(&m)
			select {
			case lines <- line{m, err}:
			case <-stop:
				return
			}
			if err != nil || m.Done {
				return
			}
		}
	}()
	var (
		out      outcome
		last     message
		ready    bool
		killedBy string
	)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(sampleRSS)
	defer tick.Stop()
	start := time.NewTimer(startGrace)
	defer start.Stop()
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			if !ok || l.err != nil {
				done = true
				break
			}
			switch {
			case l.m.Ready:
				ready = true
				start.Stop()
			case l.m.Files != nil:
				out.files = l.m.Files
			case l.m.Done:
				out.result = l.m
				done = true
			case l.m.Step != "":
				last = l.m
			}
		case <-tick.C:
			if n, ok := procstat.RSS(p.pid); ok && n > b.opts.MemoryCeiling {
				killedBy = "memory"
				p.kill()
			}
		case <-deadline.C:
			killedBy = "timeout"
			p.kill()
		case <-start.C:
			if !ready {
				p.kill()
				<-p.exited
				return outcome{}, fmt.Errorf("builder: the builder process did not start (%s): the executable's main must call builder.MaybeBuilder first", p.stderr.summary())
			}
		case <-ctx.Done():
			p.kill()
			<-p.exited
			return outcome{}, ctx.Err()
		}
	}
	if out.result.Done {
		select {
		case <-p.exited:
		case <-time.After(time.Second):
		}
		return out, nil
	}
	p.kill()
	<-p.exited
	if ctx.Err() != nil {
		return outcome{}, ctx.Err() // the caller gave up: not the content's fault
	}
	if !ready {
		return outcome{}, fmt.Errorf("%w (%s)", errNotStarted, p.stderr.summary())
	}
	d := &death{kind: killedBy, step: last.Step, file: last.File}
	switch {
	case killedBy == "memory":
		d.limit = fmt.Sprintf("%d MiB", b.opts.MemoryCeiling>>20)
	case killedBy == "timeout":
		d.limit = timeout.Round(time.Second).String()
	case p.cpuExceeded(b.opts.CPUTime):
		d.kind, d.limit = "cpu", b.opts.CPUTime.String()
	default:
		d.kind, d.detail = classify(p)
	}
	b.opts.Logger.Debug("builder died", "kind", d.kind, "step", d.step, "file", d.file, "stderr", p.stderr.summary())
	if digest == "" {
		digest = Digest(root)
	}
	d.quarantined = b.recordKill(digest, d)
	out.death = d
	return out, nil
}

// classify turns a builder's exit into a kind and fixed words.
func classify(p *proc) (string, string) {
	text := p.stderr.String()
	switch {
	case strings.Contains(text, "stack overflow") || strings.Contains(text, "stack exceeds"):
		return "crash", "a parser recursed past the builder's stack limit"
	case strings.Contains(text, "out of memory") || strings.Contains(text, "cannot allocate memory") ||
		strings.Contains(text, "address space"): // the race detector's runtime at RLIMIT_AS
		return "memory", "it ran out of memory"
	}
	if st := p.cmd.ProcessState; st != nil {
		if sig, _ := signalOf(st); sig != "" {
			return "crash", fmt.Sprintf("the builder process was killed by signal %s", sig)
		}
	}
	return "crash", "the builder process exited without an answer"
}

func (b *Builder) anyQuarantined() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.quarantine) > 0
}

func (b *Builder) quarantinedFor(digest string) (quarantined, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.quarantine[digest]
	if ok && time.Now().After(q.until) {
		delete(b.quarantine, digest)
		return q, false
	}
	if ok {
		b.stats.Refused++
	}
	return q, ok
}

// recordKill counts a builder killed by content; it reports whether the
// content is now quarantined.
func (b *Builder) recordKill(digest string, d *death) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Lost[d.kind]++
	now := time.Now()
	var recent []time.Time
	for _, t := range b.kills[digest] {
		if now.Sub(t) < b.opts.QuarantineWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	b.kills[digest] = recent
	if len(b.kills) > 4096 { // bounded: forget the others
		b.kills = map[string][]time.Time{digest: recent}
	}
	if len(recent) < b.opts.QuarantineAfter {
		return false
	}
	if len(b.quarantine) > 4096 {
		b.quarantine = map[string]quarantined{}
	}
	b.quarantine[digest] = quarantined{until: now.Add(b.opts.QuarantineFor),
		reason: fmt.Sprintf("%d times within %s", len(recent), b.opts.QuarantineWindow)}
	return true
}

// Quarantined reports whether the content of dir is quarantined, and why.
func (b *Builder) Quarantined(dir string) (string, bool) {
	q, ok := b.quarantinedFor(Digest(dir))
	return q.reason, ok
}

// Release lifts the quarantine of the content of dir.
func (b *Builder) Release(dir string) {
	d := Digest(dir)
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.quarantine, d)
	delete(b.kills, d)
}

// proc is one builder process.
type proc struct {
	cmd     *exec.Cmd
	pid     int
	stdin   *os.File
	stdout  *os.File
	stderr  *headTail
	exited  chan struct{}
	waitErr error
	once    sync.Once
}

// start starts a builder with an empty environment but the marker, in
// new namespaces when the kernel allows it.
func (b *Builder) start() (*proc, error) {
	b.mu.Lock()
	isolate := !b.noIsolate
	b.mu.Unlock()
	p, err := b.startWith(isolate)
	if err != nil && isolate {
		// Namespaces refused (a container without user namespaces):
		// remember, and start without them.
		if p, err = b.startWith(false); err == nil {
			b.mu.Lock()
			b.noIsolate = true
			b.mu.Unlock()
			b.opts.Logger.Warn("builder processes run without a network namespace: the kernel refused one")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("builder: start a builder process: %w", err)
	}
	b.mu.Lock()
	b.stats.Started++
	b.mu.Unlock()
	return p, nil
}

func (b *Builder) startWith(isolate bool) (*proc, error) {
	cmd := exec.Command(b.argv[0], append(append([]string(nil), b.argv[1:]...), builderArg)...)
	cmd.Env = []string{builderEnv + "=" + builderVersion}
	cmd.Dir = "/"
	setProcAttr(cmd, isolate)
	p := &proc{cmd: cmd, exited: make(chan struct{}), stderr: &headTail{max: 4 << 10}}
	cmd.Stderr = p.stderr
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	p.pid = cmd.Process.Pid
	p.stdin, p.stdout = inW, outR
	go func() {
		// The read end stays open (runOnce closes it): the answer written
		// just before the exit may not be read yet, and the reader meets
		// EOF after it, for a builder starts no process that could keep
		// the pipe open.
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// beforeRead runs before a builder's messages are read (a test delays the
// reader past the builder's exit).
var beforeRead = func(*proc) {}

// kill ends the builder (and anything it started, by process group).
func (p *proc) kill() {
	p.once.Do(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
			return // reaped: its pid may be someone else's now
		default:
		}
		killGroup(p.pid)
		_ = p.cmd.Process.Kill()
	})
}

// cpuMarker is what a builder writes on stderr when its CPU time is up.
const cpuMarker = "flowgate builder: CPU time limit reached"

// cpuExceeded reports whether the builder stopped for its CPU time: it
// said so on SIGXCPU, or the kernel killed it at the hard limit (a
// SIGKILL we did not send, with most of the limit used).
func (p *proc) cpuExceeded(limit time.Duration) bool {
	if strings.Contains(p.stderr.String(), cpuMarker) {
		return true
	}
	st := p.cmd.ProcessState
	if st == nil {
		return false
	}
	if _, killed := signalOf(st); !killed {
		return false
	}
	return st.UserTime()+st.SystemTime() >= limit/2
}

// headTail keeps the first and last max bytes written to it.
type headTail struct {
	mu         sync.Mutex
	max        int
	head, tail []byte
	dropped    int
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
	h.tail = append(h.tail, p...)
	if over := len(h.tail) - h.max; over > 0 {
		h.dropped += over
		h.tail = append(h.tail[:0], h.tail[over:]...)
	}
	return n, nil
}

func (h *headTail) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.head) + string(h.tail)
}

// summary is the first line of what the builder wrote, for errors about
// the tool itself (never shown for a crash caused by content).
func (h *headTail) summary() string {
	s := strings.TrimSpace(h.String())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "no output"
	}
	return s
}
