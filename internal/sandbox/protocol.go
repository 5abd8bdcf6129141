package sandbox

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The supervisor and a worker talk over the worker's stdin and stdout in
// frames: a 4-byte big-endian length, then that many bytes — a one-byte
// message type and a body. A run request has a fixed binary layout
// (runMsg): the event, the bundle and the other byte strings travel raw,
// with a length before each, and the bundle only once per worker (later
// runs name it by digest). What varies per workflow rather than per call
// (settings, variables, allow-list, stubs) is one JSON blob the worker
// decodes once and reuses while the next request carries the same bytes.
// Answers are JSON: claims are map[string]any and JSON decodes them
// without registering types. Cancellation goes over a third pipe (the
// worker's fd 3), read by its own goroutine in the worker, so the request
// path has no extra goroutine hop.
const (
	msgConfig     = 'c' // supervisor → worker, first frame: workerConfig
	msgReady      = 'K' // worker → supervisor: configured, serving
	msgRun        = 'r' // supervisor → worker: runMsg
	msgInspect    = 'i' // supervisor → worker: project.InspectInput
	msgResult     = 'R' // worker → supervisor: Response
	msgIntrospect = 'I' // worker → supervisor: project.Introspection
	msgNeedBundle = 'N' // worker → supervisor: the run's digest is not cached; send the code
)

// Frame size caps: a worker's answer is a Result (claims and logs are
// capped at 1 MiB by the runtime); a request carries a bundle.
const (
	maxAnswerFrame  = 8 << 20
	maxRequestFrame = 256 << 20
)

// workerEnv marks a process started as a worker; its value is the
// protocol version, so a stale binary refuses a newer supervisor.
const (
	workerEnv     = "FLOWGATE_SANDBOX_WORKER"
	workerVersion = "3"
)

// workerConfig is the first frame a worker reads.
type workerConfig struct {
	Limits        runtime.Limits `json:"limits"`
	MaxStack      int            `json:"maxStack"`      // debug.SetMaxStack
	SoftMemory    int64          `json:"softMemory"`    // debug.SetMemoryLimit
	AddressSpace  uint64         `json:"addressSpace"`  // RLIMIT_AS, 0 = none (Linux only)
	BundleEntries int            `json:"bundleEntries"` // bundles a worker caches
	GCPercent     int            `json:"gcPercent"`     // debug.SetGCPercent; 0 = Go's default
	// MaxProcs is the worker's GOMAXPROCS (0 = Go's default). One: a worker
	// runs one request at a time, and an idle second P only spins looking
	// for work on every wakeup.
	MaxProcs int `json:"maxProcs"`
}

// runMsg is a Request on the wire. Its body, in order: seq (8 bytes, the
// number the cancel pipe names), wall time (8, nanoseconds), flags (1),
// digest (32), then the byte strings event, encryptionKey, cacheScope,
// meta (JSON of runMeta), the count and each of redact, and — when
// flagCode is set — code and sourceMap. A byte string is a 4-byte length
// and the bytes. Integers are big-endian.
type runMsg struct {
	Seq      uint64
	WallTime time.Duration
	HasCode  bool // Code and SourceMap are sent (possibly empty)
	Digest   [32]byte
	Meta     []byte // runMeta as JSON
	*Request
}

const (
	flagCode   = 1
	flagRecord = 2 // Request.Record
)

// runMeta is the part of a Request that is the same for every call of a
// workflow in an environment.
type runMeta struct {
	Settings   workflow.Settings          `json:"settings"`
	Env        map[string]bindings.EnvVar `json:"env,omitempty"`
	AllowHosts []string                   `json:"allowHosts,omitempty"`
	Stubs      []httpstub.Stub            `json:"stubs"` // no omitempty: [] ≠ null
}

// encodeMeta is req's runMeta as JSON.
func encodeMeta(req *Request) ([]byte, error) {
	return json.Marshal(runMeta{Settings: req.Settings, Env: req.Env, AllowHosts: req.AllowHosts, Stubs: req.Stubs})
}

// appendRun appends m's body to b.
func appendRun(b []byte, m *runMsg) []byte {
	b = binary.BigEndian.AppendUint64(b, m.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(m.WallTime))
	var flags byte
	if m.HasCode {
		flags |= flagCode
	}
	if m.Record {
		flags |= flagRecord
	}
	b = append(b, flags)
	b = append(b, m.Digest[:]...)
	b = appendBytes(b, m.Event)
	b = appendBytes(b, m.EncryptionKey)
	b = appendBytes(b, []byte(m.CacheScope))
	b = appendBytes(b, m.Meta)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Redact)))
	for _, r := range m.Redact {
		b = appendBytes(b, []byte(r))
	}
	if m.HasCode {
		b = appendBytes(b, m.Code)
		b = appendBytes(b, m.SourceMap)
	}
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

var errShortFrame = errors.New("the request frame is cut short")

// decodeRun reads a runMsg body. The Request's byte fields share body;
// Meta is left for the caller to decode (and cache).
func decodeRun(body []byte) (*runMsg, error) {
	d := decoder{b: body}
	m := &runMsg{Request: &Request{}}
	m.Seq = d.u64()
	m.WallTime = time.Duration(d.u64())
	flags := d.byte()
	copy(m.Digest[:], d.take(32))
	m.Event = d.bytes()
	m.EncryptionKey = d.bytes()
	m.CacheScope = string(d.bytes())
	m.Meta = d.bytes()
	if n := d.u32(); n > 0 && !d.bad {
		if int(n) > len(d.b)/4 { // each takes at least its length
			return nil, errShortFrame
		}
		m.Redact = make([]string, n)
		for i := range m.Redact {
			m.Redact[i] = string(d.bytes())
		}
	}
	m.Record = flags&flagRecord != 0
	if flags&flagCode != 0 {
		m.HasCode = true
		m.Code = d.bytes()
		m.SourceMap = d.bytes()
	}
	if d.bad || len(d.b) > 0 {
		return nil, errShortFrame
	}
	if len(m.Event) == 0 {
		m.Event = nil
	}
	if len(m.EncryptionKey) == 0 {
		m.EncryptionKey = nil
	}
	return m, nil
}

// decoder reads a body front to back; past its end every read is zero
// and bad is set.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) {
		d.bad = true
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) byte() byte {
	if s := d.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if s := d.take(4); s != nil {
		return binary.BigEndian.Uint32(s)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if s := d.take(8); s != nil {
		return binary.BigEndian.Uint64(s)
	}
	return 0
}

func (d *decoder) bytes() []byte {
	n := d.u32()
	if d.bad || uint64(n) > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	return d.take(int(n))
}

// frame is one decoded frame.
type frame struct {
	typ  byte
	body []byte
}

var errFrameTooLarge = errors.New("frame too large")

// writeFrame writes typ and body as one frame and flushes w.
func writeFrame(w *bufio.Writer, typ byte, body []byte) error {
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(body)+1))
	hdr[4] = typ
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	return w.Flush()
}

// readFrame reads one frame of at most max bytes.
func readFrame(r *bufio.Reader, max int) (frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if n < 1 || n > max {
		return frame{}, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	return frame{typ: buf[0], body: buf[1:]}, nil
}

// wallTime is the effective wall time of a request.
func wallTime(req time.Duration, l runtime.Limits) time.Duration {
	switch {
	case req > 0:
		return req
	case l.WallTime > 0:
		return l.WallTime
	}
	return runtime.Defaults().WallTime
}

// maxAnswerDepth bounds how deeply a worker's answer nests. The supervisor
// decodes answers with encoding/json, which refuses more than 10,000
// levels; the bindings already refuse values nested deeper than
// bindings.MaxJSONDepth where a workflow sets them, so this is the backstop
// that keeps any Result a workflow can make decodable.
const maxAnswerDepth = 1000

// jsonDepth is the deepest nesting of arrays and objects in the JSON text
// b (which encoding/json wrote, so it is valid).
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}
