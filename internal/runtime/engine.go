package runtime

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/srcmap"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Options configure an Engine. The zero value is ready to use.
type Options struct {
	Limits Limits
	// Fresh makes every invocation build a brand-new runtime with the
	// bindings' globals and no guards or freeze (the design of Kinde's own
	// runtime). Only benchmarks use it, as the baseline the pool is
	// measured against; it has no allocation guards.
	Fresh bool
	// NewBindings builds the per-invocation kinde and console objects and
	// the redaction function. Nil means the real bindings package; tests
	// may supply stand-ins.
	NewBindings func(ctx context.Context, vm *goja.Runtime, cfg *bindings.Config, res *workflow.Result) Bindings
	// InstallGlobals defines the invocation-independent globals before the
	// runtime is frozen. Nil means bindings.InstallGlobals.
	InstallGlobals func(vm *goja.Runtime) error
	// Governor enforces Limits.MemoryBytes by sampling the process heap.
	// The heap is per process, so every Engine of a process should share
	// one (its owner closes it). Nil makes one for this Engine, closed by
	// Engine.Close.
	Governor *Governor
}

// Bindings is what one invocation needs from the bindings package.
type Bindings interface {
	Kinde() *goja.Object
	Console() *goja.Object
	Redact(string) string
	// BindingError is the refusal behind a value a binding threw during
	// the invocation, nil for any other value: such a failure has kind
	// binding.
	BindingError(thrown goja.Value) *bindings.Error
	// Undeclared lists the kinde.* bindings the code read without
	// declaring them; a failed run says how to declare them.
	Undeclared() []string
}

// Engine compiles workflow bundles once and runs them in pooled, frozen
// goja runtimes. It is safe for concurrent use.
type Engine struct {
	limits      Limits
	fresh       bool
	newBindings func(ctx context.Context, vm *goja.Runtime, cfg *bindings.Config, res *workflow.Result) Bindings
	install     func(vm *goja.Runtime) error
	realms      bool // the real bindings: one prebuilt bindings.Realm per runtime
	gov         *Governor
	ownGov      bool // gov was made by New, so Close closes it
	protoOnce   sync.Once
	proto       map[string]bool // Object.prototype's names in the engine's runtimes

	idle   atomic.Int64 // idle runtimes over all programs
	closed atomic.Bool

	// programs are the compiled bundles by Digest, least recently used
	// evicted first; an evicted program's idle runtimes are dropped.
	programs *lru.Cache[[32]byte, *Program]
}

// New returns an Engine with opts.
func New(opts Options) *Engine {
	e := &Engine{
		limits:      opts.Limits.withDefaults(),
		fresh:       opts.Fresh,
		newBindings: opts.NewBindings,
		install:     opts.InstallGlobals,
	}
	e.programs, _ = lru.NewWithEvict(e.limits.MaxPrograms, func(_ [32]byte, p *Program) { // size > 0: withDefaults
		p.evicted.Store(true)
		e.drain(p)
	})
	if e.newBindings == nil {
		e.realms = true
		e.newBindings = func(ctx context.Context, vm *goja.Runtime, cfg *bindings.Config, res *workflow.Result) Bindings {
			return bindings.New(ctx, vm, cfg, res)
		}
	}
	if e.install == nil {
		e.install = bindings.InstallGlobals
	}
	e.gov = opts.Governor
	if e.gov == nil {
		e.gov, e.ownGov = NewGovernor(e.limits.SampleInterval), true
	}
	setRegexpTimeout()
	return e
}

// Close drops the engine's programs and idle runtimes and, when the
// engine made its own Governor, closes it. Runs already started finish;
// later ones fail with kind internal. Close is idempotent.
func (e *Engine) Close() {
	if e.closed.Swap(true) {
		return
	}
	e.programs.Purge() // evicts each: its runtimes are no longer pooled
	if e.ownGov {
		e.gov.Close()
	}
}

// Limits returns the engine's effective limits (defaults filled in).
func (e *Engine) Limits() Limits { return e.limits }

// Program is a compiled bundle with its source map and its pool of warm
// runtimes.
type Program struct {
	sum  [32]byte
	prog *goja.Program
	smap *srcmap.Map
	pool chan *slot
	// mapStack maps a stack text's bundle positions to the original
	// source (bindings.Config.MapStack, for logged errors).
	mapStack func(string) string
	// evicted is set when the program leaves the engine's cache (or the
	// engine closes): its runtimes are no longer pooled.
	evicted atomic.Bool
}

// SHA256 is the digest the program is cached under (code and source map).
func (p *Program) SHA256() [32]byte { return p.sum }

// LoadError is a bundle that does not compile, located in the original
// source when the source map knows the position.
type LoadError struct {
	File    string
	Line    int
	Column  int
	Message string
}

func (e *LoadError) Error() string {
	if e.File == "" {
		return "load workflow bundle: " + e.Message
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// bundleName is the file name goja reports for bundle positions.
const bundleName = "bundle.js"

// wrapPrefix turns the CommonJS bundle into a function expression, so each
// invocation gets fresh module state by calling it again. It shares line 1
// with the bundle's first line: only line-1 columns shift.
const wrapPrefix = "(function (module, exports, require, kinde, console) {"

// Load compiles code (a CommonJS bundle) with its source map (may be nil)
// and caches the result by SHA-256; loading the same bytes again returns the
// cached *Program.
func (e *Engine) Load(code, sourceMap []byte) (*Program, error) {
	return e.LoadDigest(Digest(code, sourceMap), code, sourceMap)
}

// Digest is the SHA-256 of code, a zero byte and sourceMap: the key Load
// caches programs under.
func Digest(code, sourceMap []byte) [32]byte {
	h := sha256.New()
	h.Write(code)
	h.Write([]byte{0})
	h.Write(sourceMap)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// LoadDigest is Load for a caller that already knows the bundle's Digest
// (a sandbox worker is sent it with the bundle), so a cached program is
// found without hashing the bundle on every run. sum must be
// Digest(code, sourceMap).
func (e *Engine) LoadDigest(sum [32]byte, code, sourceMap []byte) (*Program, error) {
	if p, ok := e.programs.Get(sum); ok {
		return p, nil
	}

	var smap *srcmap.Map
	if len(sourceMap) > 0 {
		m, err := srcmap.Parse(bundleName+".map", sourceMap)
		if err != nil {
			return nil, &LoadError{Message: err.Error()}
		}
		smap = m
	}
	if e.closed.Load() {
		return nil, &Error{Kind: workflow.KindInternal, Err: errClosed}
	}
	src := wrapPrefix + string(code) + "\n})"
	// Strict, as the ES modules the bundle was built from are: no
	// arguments.callee (the wrapper), no sloppy this, no with.
	tree, err := parser.ParseFile(nil, bundleName, src, 0)
	if err != nil {
		return nil, loadError(err, smap)
	}
	if !e.fresh { // the fresh baseline runs unguarded, as Kinde's runtime does
		guardSpreads(tree)
	}
	prog, err := goja.CompileAST(tree, true)
	if err != nil {
		return nil, loadError(err, smap)
	}
	p := &Program{sum: sum, prog: prog, smap: smap, pool: make(chan *slot, e.limits.PoolSize)}
	p.mapStack = func(st string) string { return mapStack(p, st) }

	if prev, loaded, _ := e.programs.PeekOrAdd(sum, p); loaded { // loaded concurrently
		e.programs.Get(sum) // most recently used
		return prev, nil
	}
	return p, nil
}

// loadError locates a compile error in the original source.
func loadError(err error, smap *srcmap.Map) error {
	var (
		pos file.Position
		msg string
	)
	var se *goja.CompilerSyntaxError
	var pl parser.ErrorList
	var pe *parser.Error
	switch {
	case errors.As(err, &se) && se.File != nil:
		pos, msg = se.File.Position(se.Offset), se.Message
	case errors.As(err, &pl) && len(pl) > 0:
		pos, msg = pl[0].Position, pl[0].Message
	case errors.As(err, &pe):
		pos, msg = pe.Position, pe.Message
	default:
		return &LoadError{Message: err.Error()}
	}
	line, col := bundlePos(pos.Line, pos.Column)
	le := &LoadError{File: bundleName, Line: line, Column: col, Message: "SyntaxError: " + msg}
	if o, ok := smap.Original(line, col); ok {
		le.File, le.Line, le.Column = o.File, o.Line, o.Column
	}
	return le
}

// bundlePos turns a position in the wrapped source into one in the bundle.
func bundlePos(line, col int) (int, int) {
	if line == 1 {
		col -= len(wrapPrefix)
		if col < 1 {
			col = 1
		}
	}
	return line, col
}
