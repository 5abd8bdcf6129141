// Package sandbox runs workflow code — invocations and settings
// inspection — behind one interface, Runner, in this process (NewInProcess)
// or in supervised worker processes (NewSupervisor): the same binary
// re-executed, one invocation at a time per worker, killed and replaced when
// it crashes, overruns its deadline or its memory ceiling. See README.md.
package sandbox

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Request is one invocation: the bundle, the event and everything the
// bindings need. It is plain data, sent as is to a worker process.
type Request struct {
	Settings      workflow.Settings          `json:"settings"`
	Code          []byte                     `json:"code,omitempty"` // the bundle; runners cache compiled programs by Digest
	SourceMap     []byte                     `json:"sourceMap,omitempty"`
	Event         []byte                     `json:"event,omitempty"`
	Env           map[string]bindings.EnvVar `json:"env,omitempty"`
	EncryptionKey []byte                     `json:"encryptionKey,omitempty"`
	AllowHosts    []string                   `json:"allowHosts,omitempty"`
	Redact        []string                   `json:"redact,omitempty"` // password values that must never appear in any output
	Stubs         []httpstub.Stub            `json:"stubs"`            // non-nil: fetch is answered only from these (flowgate test); no omitempty, [] ≠ null
	WallTime      time.Duration              `json:"wallTime,omitempty"`
	CacheScope    string                     `json:"cacheScope,omitempty"` // JWT cache namespace (the environment); one cache per scope
	// Record asks for Response.Fetch: what every outbound request of the
	// run was answered (bounded: outbound.RecordBodyBytes, RecordEntries).
	Record bool `json:"record,omitempty"`

	// EncryptionKeyError is why the active key could not be provided (it
	// does not decrypt): kinde.secureFetch throws it.
	EncryptionKeyError string `json:"encryptionKeyError,omitempty"`
}

// Response is what a Runner returns for a Request.
type Response struct {
	Result    *workflow.Result `json:"result"`
	Unmatched []string         `json:"unmatched,omitempty"` // requests no stub answered (httpstub.Transport.Unmatched)
	// Fetch is what each outbound request was answered, in order, when
	// Request.Record was set (request bodies are not kept).
	Fetch []httpstub.Stub `json:"fetch,omitempty"`
}

// Runner runs workflow code. Implementations are safe for concurrent use.
type Runner interface {
	// Run invokes the request's workflow once. Every failure, including a
	// crashed or killed worker, is a failed Result with error.kind set;
	// Run never returns a Go error.
	Run(ctx context.Context, req *Request) Response
	// ReadSettings evaluates a workflow's top-level code and reads its
	// settings; a crash is a located diagnostic. Runner satisfies
	// project.Inspector.
	ReadSettings(ctx context.Context, in project.InspectInput) project.Introspection
	// Close releases the runner (stops worker processes).
	Close() error
}

var (
	_ Runner            = (*InProcess)(nil)
	_ project.Inspector = (Runner)(nil)
)

// Options configure a Runner. The zero value is ready to use.
type Options struct {
	// Limits are the runtime's per-invocation limits; Request.WallTime,
	// when set, replaces Limits.WallTime.
	Limits runtime.Limits
	// Workers is how many worker processes run at once (started lazily,
	// kept warm). Default GOMAXPROCS.
	Workers int
	// MemoryCeiling is a worker's hard resident-memory ceiling: a worker
	// above it is killed. Default 512 MiB.
	MemoryCeiling uint64
	// Grace is added to an invocation's wall time before its worker is
	// killed (the runtime interrupts the code itself at the wall time).
	// Default 1s.
	Grace time.Duration
	// MaxStack is a worker's Go max stack per goroutine, so a native
	// recursion dies fast. Default 64 MiB.
	MaxStack int
	// QuarantineAfter kills by one bundle within QuarantineWindow
	// quarantine it: its runs then fail at once. Defaults 3 and 10 minutes.
	QuarantineAfter  int
	QuarantineWindow time.Duration
	// Logger receives the supervisor's events (a crashed worker's stderr at
	// debug, truncated). Default slog.Default().
	Logger *slog.Logger
	// AddressSpace is a worker's RLIMIT_AS (Linux), a backstop to the
	// ceiling: an allocation beyond it kills the worker at once. A Go
	// process reserves ~1.6 GiB of address space at rest, so the default
	// is MemoryCeiling + 4 GiB; set it to ^uint64(0) for none.
	AddressSpace uint64
	// Command is the worker's argv; default the running executable with no
	// arguments (its main must call MaybeWorker first).
	Command []string
}

func (o Options) withDefaults() Options {
	if o.MemoryCeiling == 0 {
		o.MemoryCeiling = 512 << 20
	}
	switch o.AddressSpace {
	case 0:
		o.AddressSpace = o.MemoryCeiling + 4<<30
	case ^uint64(0):
		o.AddressSpace = 0 // the worker sets none
	}
	if o.Grace <= 0 {
		o.Grace = time.Second
	}
	if o.MaxStack <= 0 {
		o.MaxStack = 64 << 20
	}
	if o.QuarantineAfter <= 0 {
		o.QuarantineAfter = 3
	}
	if o.QuarantineWindow <= 0 {
		o.QuarantineWindow = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Digest identifies a bundle: the hex SHA-256 of its code and source map
// (runtime.Digest). Programs are cached and quarantines recorded under it.
func Digest(code, sourceMap []byte) string {
	sum := runtime.Digest(code, sourceMap)
	return hex.EncodeToString(sum[:])
}

// digestMemo remembers the digests of the bundles it was asked about, so
// a bundle run again and again is not hashed on every call: a lookup
// hashes the code with the map's own (much cheaper) hash and compares it
// byte for byte with a private copy, so a caller that changes the bytes
// gets a fresh digest. It keeps up to memoEntries bundles and memoBytes
// bytes of them; past either it starts over.
type digestMemo struct {
	mu    sync.Mutex
	m     map[string]memoEntry // by code
	bytes int
}

type memoEntry struct {
	sourceMap []byte // a copy
	sum       [32]byte
	hex       string
}

const (
	memoEntries = 64
	memoBytes   = 64 << 20
)

// get returns the bundle's runtime.Digest and its hex form (Digest).
func (d *digestMemo) get(code, sourceMap []byte) ([32]byte, string) {
	d.mu.Lock()
	e, ok := d.m[string(code)]
	d.mu.Unlock()
	if ok && bytes.Equal(e.sourceMap, sourceMap) {
		return e.sum, e.hex
	}
	sum := runtime.Digest(code, sourceMap)
	e = memoEntry{sourceMap: bytes.Clone(sourceMap), sum: sum, hex: hex.EncodeToString(sum[:])}
	size := len(code) + len(sourceMap)
	if size > memoBytes/4 {
		return e.sum, e.hex // too large to keep: hash it each time
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) >= memoEntries || d.bytes+size > memoBytes {
		d.m, d.bytes = make(map[string]memoEntry), 0
	}
	if old, ok := d.m[string(code)]; ok {
		d.bytes -= len(code) + len(old.sourceMap)
	}
	d.m[string(code)] = e
	d.bytes += size
	d.mu.Unlock()
	return e.sum, e.hex
}

// failed is a failed Result for req with the given kind and message.
func failed(req *Request, kind workflow.ErrorKind, msg string) *workflow.Result {
	return &workflow.Result{
		WorkflowID: req.Settings.ID, Trigger: req.Settings.Trigger, FailurePolicy: req.Settings.Policy(),
		Status: workflow.StatusFailed, Error: &workflow.Error{Kind: kind, Message: msg},
	}
}
