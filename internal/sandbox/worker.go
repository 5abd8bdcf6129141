package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/workflow"
)

// MaybeWorker serves requests and exits when this process was started as
// a worker (the supervisor sets a marker in its environment); otherwise it
// returns at once. Call it first in main, and in TestMain of packages whose
// tests start supervisors.
func MaybeWorker() { maybeWorker(nil) }

// hook answers a test-only message type in a worker (see the tests).
type hook func(body []byte) any

func maybeWorker(hooks map[byte]hook) {
	v, ok := os.LookupEnv(workerEnv)
	if !ok {
		return
	}
	if v != workerVersion {
		fmt.Fprintf(os.Stderr, "flowgate sandbox worker: protocol %q, this binary speaks %q\n", v, workerVersion)
		os.Exit(3)
	}
	if err := serve(os.Stdin, os.Stdout, pollable(3, "cancel"), hooks); err != nil {
		fmt.Fprintf(os.Stderr, "flowgate sandbox worker: %v\n", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// serve reads frames from r and answers them on w until r ends, one
// request at a time on this goroutine (whose grown stack every run
// reuses). Cancellations arrive on ctrl, read by a goroutine of their own:
// each is the sequence number of the run to stop.
func serve(r io.Reader, w io.Writer, ctrl io.Reader, hooks map[byte]hook) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	f, err := readFrame(br, maxRequestFrame)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var cfg workerConfig
	if f.typ != msgConfig || json.Unmarshal(f.body, &cfg) != nil {
		return errors.New("the first frame is not a configuration")
	}
	configure(cfg)
	if err := writeFrame(bw, msgReady, nil); err != nil {
		return fmt.Errorf("answer the configuration: %w", err)
	}
	wk := &workerState{
		runner:  newInProcess(Options{Limits: cfg.Limits}),
		bundles: newBundleCache(cfg.BundleEntries),
		out:     bw,
	}
	if ctrl != nil {
		go wk.readCancels(ctrl)
	}
	for {
		f, err := readFrame(br, maxRequestFrame)
		if errors.Is(err, io.EOF) {
			return nil // the supervisor closed our stdin: done
		}
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		typ, v := wk.handle(f, hooks)
		if err := wk.answer(typ, v); err != nil {
			return fmt.Errorf("answer: %w", err)
		}
	}
}

// configure applies the worker's own limits: a small max stack, so a
// native recursion dies fast instead of growing to 1 GB; a soft memory
// limit, so the GC works hard before the supervisor's ceiling (and a lazy
// GC below it, as the CLI's own GOGC=400); an address space limit as a
// backstop where the platform has one.
func configure(cfg workerConfig) {
	if cfg.MaxStack > 0 {
		debug.SetMaxStack(cfg.MaxStack)
	}
	if cfg.SoftMemory > 0 {
		debug.SetMemoryLimit(cfg.SoftMemory)
	}
	if cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if cfg.MaxProcs > 0 {
		goruntime.GOMAXPROCS(cfg.MaxProcs)
	}
	if cfg.AddressSpace > 0 {
		limitAddressSpace(cfg.AddressSpace)
	}
}

type workerState struct {
	runner  *InProcess
	bundles *bundleCache
	out     *bufio.Writer

	// meta is the last request's runMeta, decoded, and the bytes it was
	// decoded from: calls of one workflow send the same bytes.
	metaText []byte
	meta     runMeta
	ans      []byte // the last binary answer's buffer

	mu        sync.Mutex
	seq       uint64             // the running request's sequence number
	cancel    context.CancelFunc // cancels it
	cancelled uint64             // the highest sequence number the supervisor cancelled
}

// readCancels cancels the running request when the supervisor names it.
// Sequence numbers only grow: a cancellation that arrives after its
// request ended names an old one and is ignored; one that arrives before
// its request started is remembered (cancellable).
func (wk *workerState) readCancels(ctrl io.Reader) {
	var b [8]byte
	for {
		if _, err := io.ReadFull(ctrl, b[:]); err != nil {
			return
		}
		seq := binary.BigEndian.Uint64(b[:])
		wk.mu.Lock()
		wk.cancelled = max(wk.cancelled, seq)
		if wk.cancel != nil && wk.seq == seq {
			wk.cancel()
		}
		wk.mu.Unlock()
	}
}

// cancellable is the context of request seq, cancelled when the
// supervisor names seq on the cancel pipe; call done when the request ends.
func (wk *workerState) cancellable(seq uint64) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(context.Background())
	wk.mu.Lock()
	wk.seq, wk.cancel = seq, cancel
	if seq != 0 && seq <= wk.cancelled {
		cancel() // cancelled while on its way
	}
	wk.mu.Unlock()
	return ctx, func() {
		wk.mu.Lock()
		wk.cancel = nil
		wk.mu.Unlock()
		cancel()
	}
}

// handle runs one request and returns the answer's type and body.
func (wk *workerState) handle(f frame, hooks map[byte]hook) (byte, any) {
	switch f.typ {
	case msgRun:
		m, err := decodeRun(f.body)
		if err != nil {
			return msgResult, Response{Result: failed(&Request{}, workflow.KindInternal, "sandbox: bad request: "+err.Error())}
		}
		req := m.Request
		if !bytes.Equal(m.Meta, wk.metaText) {
			var meta runMeta
			if err := json.Unmarshal(m.Meta, &meta); err != nil {
				return msgResult, Response{Result: failed(req, workflow.KindInternal, "sandbox: bad request: "+err.Error())}
			}
			wk.meta, wk.metaText = meta, m.Meta
		}
		req.Settings, req.Env, req.AllowHosts, req.Stubs = wk.meta.Settings, wk.meta.Env, wk.meta.AllowHosts, wk.meta.Stubs
		req.WallTime = m.WallTime
		if m.HasCode {
			wk.bundles.put(m.Digest, req.Code, req.SourceMap)
		} else if b, ok := wk.bundles.get(m.Digest); ok {
			req.Code, req.SourceMap = b.code, b.sourceMap
		} else {
			return msgNeedBundle, nil
		}
		ctx, done := wk.cancellable(m.Seq)
		defer done()
		return msgResult, wk.runner.run(ctx, req, m.Digest)
	case msgInspect: // the sequence number (8 bytes), then InspectInput as JSON
		var in project.InspectInput
		if len(f.body) < 8 || json.Unmarshal(f.body[8:], &in) != nil {
			return msgIntrospect, project.Introspection{}
		}
		ctx, done := wk.cancellable(binary.BigEndian.Uint64(f.body))
		defer done()
		return msgIntrospect, wk.runner.ReadSettings(ctx, in)
	}
	if h := hooks[f.typ]; h != nil {
		return msgResult, h(f.body)
	}
	return msgResult, Response{Result: failed(&Request{}, workflow.KindInternal, fmt.Sprintf("sandbox: unknown request type %q", f.typ))}
}

// answer writes one answer: a Response in the binary layout when it
// carries it (appendResult), else as JSON. A Result that cannot be
// encoded, is too large for a frame or nests too deeply for the supervisor
// to decode becomes a failed Result, so the supervisor always gets an
// answer it can read.
func (wk *workerState) answer(typ byte, v any) error {
	if r, ok := v.(Response); ok && typ == msgResult {
		if b, ok := appendResult(wk.ans[:0], &r); ok && len(b)+1 <= maxAnswerFrame {
			if cap(b) <= 1<<20 {
				wk.ans = b // reuse the buffer, unless a large answer grew it
			}
			return writeFrame(wk.out, msgResultBin, b)
		}
	}
	body, err := json.Marshal(v)
	switch {
	case err != nil:
	case len(body)+1 > maxAnswerFrame:
		err = fmt.Errorf("the answer is %d bytes, more than %d", len(body), maxAnswerFrame)
	case jsonDepth(body) > maxAnswerDepth:
		err = fmt.Errorf("it nests more than %d levels deep", maxAnswerDepth)
	}
	if r, ok := v.(Response); err != nil && ok && typ == msgResult && len(r.Fetch) > 0 && !RecordingCut(r.Fetch) {
		// A recording too large to send costs the recording, never the
		// call: the run's Result goes with the mark of a cut recording.
		r.Fetch = cutRecording()
		return wk.answer(typ, r)
	}
	if err != nil {
		var fallback any = project.Introspection{}
		if typ == msgResult {
			res := &workflow.Result{Status: workflow.StatusFailed, Error: &workflow.Error{
				Kind: workflow.KindResultTooLarge, Message: "the workflow's result cannot be returned: " + err.Error()}}
			if r, ok := v.(Response); ok && r.Result != nil {
				res.WorkflowID, res.Trigger, res.FailurePolicy = r.Result.WorkflowID, r.Result.Trigger, r.Result.FailurePolicy
			}
			fallback = Response{Result: res} // the recording is dropped with the rest
		}
		body, _ = json.Marshal(fallback)
	}
	return writeFrame(wk.out, typ, body)
}

// bundle is a cached bundle.
type bundle struct {
	digest          [32]byte
	code, sourceMap []byte
}

// bundleCache keeps the most recently used bundles a worker was sent.
type bundleCache struct{ lru *lru.Cache[[32]byte, *bundle] }

func newBundleCache(max int) *bundleCache {
	if max <= 0 {
		max = 64
	}
	c, _ := lru.New[[32]byte, *bundle](max) // max > 0
	return &bundleCache{c}
}

func (c *bundleCache) get(digest [32]byte) (*bundle, bool) { return c.lru.Get(digest) }

// put keeps the first bundle sent for a digest (the digest names the bytes).
func (c *bundleCache) put(digest [32]byte, code, sourceMap []byte) {
	if _, ok := c.lru.Get(digest); !ok {
		c.lru.Add(digest, &bundle{digest: digest, code: code, sourceMap: sourceMap})
	}
}
