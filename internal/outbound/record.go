package outbound

import (
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/flowgate/flowgate/internal/httpstub"
)

// Recording bounds: a recorded answer keeps at most RecordBodyBytes of
// its body, a run at most RecordTotalBytes of bodies and RecordEntries
// answers (every redirect hop is one), so a recording always fits in a
// worker's answer. A run's own request cap is far lower than the entry bound.
const (
	RecordBodyBytes  = 64 << 10
	RecordTotalBytes = 512 << 10
	RecordEntries    = 64
)

// Recorder keeps what each outbound request of one run was answered
// (method, URL, status, Content-Type, Location, body), as httpstub.Stubs,
// so the run can be replayed later without the network. It wraps the
// transport a Session uses, so kinde.fetch, kinde.secureFetch and the JWKS
// fetches of kinde.cache are all recorded. Request bodies are not kept.
// Set it as Policy.Record; it is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	stubs   []httpstub.Stub
	bytes   int // body bytes kept
	dropped int
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Stubs returns a copy of the answers recorded so far, in the order the
// requests were sent.
func (r *Recorder) Stubs() []httpstub.Stub {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]httpstub.Stub, len(r.stubs))
	for i, s := range r.stubs {
		s.Headers = cloneHeaders(s.Headers)
		out[i] = s
	}
	return out
}

// Dropped is how many answers were not kept (past RecordEntries).
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

func cloneHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}

// wrap returns rt with every answer recorded.
func (r *Recorder) wrap(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &recordingTransport{rec: r, base: rt}
}

type recordingTransport struct {
	rec  *Recorder
	base http.RoundTripper
}

// recordedHeaders are the response headers a replay needs: how to read
// the body, and where a redirect goes.
var recordedHeaders = []string{"Content-Type", "Location"}

// RoundTrip sends req through the real transport and records its answer
// once the body is closed (what was read of it, bounded). A request that
// fails is not recorded: a replay refuses it, which fails it as well.
func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	s := httpstub.Stub{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode}
	for _, h := range recordedHeaders {
		if v := resp.Header.Get(h); v != "" {
			if s.Headers == nil {
				s.Headers = map[string]string{}
			}
			s.Headers[h] = v
		}
	}
	t.rec.mu.Lock()
	if len(t.rec.stubs) >= RecordEntries {
		t.rec.dropped++
		t.rec.mu.Unlock()
		return resp, nil
	}
	idx := len(t.rec.stubs)
	t.rec.stubs = append(t.rec.stubs, s)
	t.rec.mu.Unlock()
	if resp.Body != nil {
		resp.Body = &teeBody{ReadCloser: resp.Body, rec: t.rec, idx: idx}
	}
	return resp, nil
}

// teeBody keeps the first RecordBodyBytes read through it and stores
// them in the recorder's entry when closed.
type teeBody struct {
	io.ReadCloser
	rec       *Recorder
	idx       int
	buf       []byte
	truncated bool
	done      bool
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		room := RecordBodyBytes - len(b.buf)
		if n > room {
			b.truncated = true
		}
		b.buf = append(b.buf, p[:min(n, max(room, 0))]...)
	}
	return n, err
}

func (b *teeBody) Close() error {
	if !b.done {
		b.done = true
		b.rec.mu.Lock()
		if b.idx < len(b.rec.stubs) {
			if room := RecordTotalBytes - b.rec.bytes; len(b.buf) > room {
				b.buf, b.truncated = b.buf[:max(room, 0)], true
			}
			b.rec.bytes += len(b.buf)
			s := &b.rec.stubs[b.idx]
			s.Body = strings.ToValidUTF8(string(b.buf), "\uFFFD")
			s.Truncated = b.truncated
		}
		b.rec.mu.Unlock()
	}
	return b.ReadCloser.Close()
}
