package sandbox

import (
	"bufio"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

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
	if err := serve(os.Stdin, os.Stdout, hooks); err != nil {
		fmt.Fprintf(os.Stderr, "flowgate sandbox worker: %v\n", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// serve reads frames from r and answers them on w until r ends, one
// request at a time on this goroutine (whose grown stack every run
// reuses). There is no cancel message: a request carries its own wall
// time, and the supervisor kills a worker that overruns it.
func serve(r io.Reader, w io.Writer, hooks map[byte]hook) error {
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
	ctx := context.Background()
	for {
		f, err := readFrame(br, maxRequestFrame)
		if errors.Is(err, io.EOF) {
			return nil // the supervisor closed our stdin: done
		}
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		typ, v := wk.handle(ctx, f, hooks)
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
	if cfg.AddressSpace > 0 {
		limitAddressSpace(cfg.AddressSpace)
	}
}

type workerState struct {
	runner  *InProcess
	bundles *bundleCache
	out     *bufio.Writer
}

// handle runs one request and returns the answer's type and body.
func (wk *workerState) handle(ctx context.Context, f frame, hooks map[byte]hook) (byte, any) {
	switch f.typ {
	case msgRun:
		m := runMsg{Request: &Request{}}
		if err := json.Unmarshal(f.body, &m); err != nil {
			return msgResult, Response{Result: failed(m.Request, workflow.KindInternal, "sandbox: bad request: "+err.Error())}
		}
		req := m.Request
		if m.HasCode {
			wk.bundles.put(m.Digest, req.Code, req.SourceMap)
		} else if b, ok := wk.bundles.get(m.Digest); ok {
			req.Code, req.SourceMap = b.code, b.sourceMap
		} else {
			return msgNeedBundle, nil
		}
		return msgResult, wk.runner.Run(ctx, req)
	case msgInspect:
		var in project.InspectInput
		if err := json.Unmarshal(f.body, &in); err != nil {
			return msgIntrospect, project.Introspection{}
		}
		return msgIntrospect, wk.runner.ReadSettings(ctx, in)
	}
	if h := hooks[f.typ]; h != nil {
		return msgResult, h(f.body)
	}
	return msgResult, Response{Result: failed(&Request{}, workflow.KindInternal, fmt.Sprintf("sandbox: unknown request type %q", f.typ))}
}

// answer writes one answer. A Result that cannot be encoded or is too
// large for a frame becomes a failed Result, so the supervisor always
// gets an answer.
func (wk *workerState) answer(typ byte, v any) error {
	body, err := json.Marshal(v)
	if err == nil && len(body)+1 > maxAnswerFrame {
		err = fmt.Errorf("the answer is %d bytes, more than %d", len(body), maxAnswerFrame)
	}
	if err != nil {
		var fallback any = project.Introspection{}
		if typ == msgResult {
			res := &workflow.Result{Status: workflow.StatusFailed, Error: &workflow.Error{
				Kind: workflow.KindResultTooLarge, Message: "the workflow's result cannot be returned: " + err.Error()}}
			if r, ok := v.(Response); ok && r.Result != nil {
				res.WorkflowID, res.Trigger, res.FailurePolicy = r.Result.WorkflowID, r.Result.Trigger, r.Result.FailurePolicy
			}
			fallback = Response{Result: res}
		}
		body, _ = json.Marshal(fallback)
	}
	return writeFrame(wk.out, typ, body)
}

// bundle is a cached bundle.
type bundle struct {
	digest          string
	code, sourceMap []byte
}

// bundleCache keeps the most recently used bundles a worker was sent.
type bundleCache struct {
	mu    sync.Mutex
	max   int
	byKey map[string]*list.Element
	lru   *list.List
}

func newBundleCache(max int) *bundleCache {
	if max <= 0 {
		max = 64
	}
	return &bundleCache{max: max, byKey: map[string]*list.Element{}, lru: list.New()}
}

func (c *bundleCache) get(digest string) (*bundle, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[digest]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*bundle), true
}

func (c *bundleCache) put(digest string, code, sourceMap []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[digest]; ok {
		c.lru.MoveToFront(el)
		return
	}
	c.byKey[digest] = c.lru.PushFront(&bundle{digest: digest, code: code, sourceMap: sourceMap})
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.byKey, old.Value.(*bundle).digest)
	}
}
