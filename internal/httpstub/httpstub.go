// Package httpstub answers a workflow's HTTP requests from a fixed list of
// responses, so `flowgate test` cases run without a network. The stubs are
// plain, JSON-serialisable values: a supervisor sends them to the worker
// process that runs the workflow, which builds the Transport there.
package httpstub

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Stub is one canned response, matched by exact method and URL. Stubs
// with the same method and URL answer in turn (a recording of a run that
// made the same request twice replays both answers); the last one repeats.
type Stub struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Truncated marks a recorded answer whose body was cut to the
	// recording's bound (outbound.RecordBodyBytes); it is replayed as cut.
	Truncated bool `json:"truncated,omitempty"`
}

// maxUnmatched bounds how many unanswered requests are remembered (a
// workflow's own request cap is far lower; this only guards memory).
const maxUnmatched = 100

// Transport is an http.RoundTripper that answers from stubs; nothing
// reaches the network. Requests no stub matches fail and are recorded, so
// a test case fails even when the workflow catches the error. It is safe
// for concurrent use.
type Transport struct {
	stubs     []Stub
	mu        sync.Mutex
	unmatched []string
	used      map[string]int // requests answered so far, by method and URL
}

// NewTransport returns a Transport answering from stubs.
func NewTransport(stubs []Stub) *Transport {
	return &Transport{stubs: stubs}
}

// RoundTrip answers r from the stubs with r's method and URL: the nth
// such request from the nth of them, or the last.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	u := r.URL.String()
	key := r.Method + " " + u
	t.mu.Lock()
	turn := t.used[key]
	match := -1
	for i, s := range t.stubs {
		if s.Method == r.Method && s.URL == u {
			match = i
			if turn == 0 {
				break
			}
			turn--
		}
	}
	if match >= 0 {
		if t.used == nil {
			t.used = map[string]int{}
		}
		if len(t.used) < maxUnmatched || t.used[key] > 0 {
			t.used[key]++
		}
	}
	t.mu.Unlock()
	if match >= 0 {
		s := t.stubs[match]
		h := http.Header{}
		for k, v := range s.Headers {
			h.Set(k, v)
		}
		return &http.Response{
			StatusCode: s.Status, Status: strconv.Itoa(s.Status) + " " + http.StatusText(s.Status),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: h, Body: io.NopCloser(strings.NewReader(s.Body)),
			ContentLength: int64(len(s.Body)), Request: r,
		}, nil
	}
	t.mu.Lock()
	if len(t.unmatched) < maxUnmatched {
		t.unmatched = append(t.unmatched, r.Method+" "+u)
	}
	t.mu.Unlock()
	return nil, fmt.Errorf("no stubbed response for %s %s: add it to the case's \"fetch\" list", r.Method, u)
}

// Unmatched returns one line per request no stub answered, in order,
// worded for the test's output (what to add to the case).
func (t *Transport) Unmatched() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, u := range t.unmatched {
		out = append(out, "no stubbed response for "+u+`: add {"method", "url", "status", "json"|"text"} to the case's "fetch"`)
	}
	return out
}
