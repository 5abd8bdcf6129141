package sandbox

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/flowgate/flowgate/internal/runtime"
)

// The supervisor and a worker talk over the worker's stdin and stdout in
// frames: a 4-byte big-endian length, then that many bytes — a one-byte
// message type and a JSON body. JSON rather than gob: claims are
// map[string]any (gob needs every dynamic type registered and refuses
// nil interface values), and the measured cost is small (README.md).
const (
	msgConfig     = 'c' // supervisor → worker, first frame: workerConfig
	msgReady      = 'K' // worker → supervisor: configured, serving
	msgRun        = 'r' // supervisor → worker: runMsg
	msgInspect    = 'i' // supervisor → worker: project.InspectInput
	msgCancel     = 'x' // supervisor → worker: stop the current request
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
	workerVersion = "1"
)

// workerConfig is the first frame a worker reads.
type workerConfig struct {
	Limits        runtime.Limits `json:"limits"`
	MaxStack      int            `json:"maxStack"`      // debug.SetMaxStack
	SoftMemory    int64          `json:"softMemory"`    // debug.SetMemoryLimit
	AddressSpace  uint64         `json:"addressSpace"`  // RLIMIT_AS, 0 = none (Linux only)
	BundleEntries int            `json:"bundleEntries"` // bundles a worker caches
	GCPercent     int            `json:"gcPercent"`     // debug.SetGCPercent; 0 = Go's default
}

// runMsg is a Request on the wire: Code and SourceMap are sent only when
// the supervisor believes the worker does not have Digest yet.
type runMsg struct {
	Digest  string `json:"digest"`
	HasCode bool   `json:"hasCode,omitempty"` // Code and SourceMap are sent (possibly empty)
	*Request
}

// frame is one decoded frame.
type frame struct {
	typ  byte
	body []byte
}

var errFrameTooLarge = errors.New("frame too large")

// writeFrame writes typ and body (JSON) as one frame and flushes w.
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
