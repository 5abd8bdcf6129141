package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// stubTransport answers a test case's HTTP requests from its "fetch"
// stubs, in-process; nothing reaches the network. Requests no stub
// matches are recorded so the case fails even if the workflow catches the
// error.
type stubTransport struct {
	stubs     []stub
	mu        sync.Mutex
	unmatched []string
}

func (t *stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	u := r.URL.String()
	for _, s := range t.stubs {
		if s.Method == r.Method && s.URL == u {
			h := http.Header{}
			for k, v := range s.Headers {
				h.Set(k, v)
			}
			return &http.Response{
				StatusCode: s.Status, Status: strconv.Itoa(s.Status) + " " + http.StatusText(s.Status),
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: h, Body: io.NopCloser(bytes.NewReader(s.Body)),
				ContentLength: int64(len(s.Body)), Request: r,
			}, nil
		}
	}
	t.mu.Lock()
	t.unmatched = append(t.unmatched, r.Method+" "+u)
	t.mu.Unlock()
	return nil, fmt.Errorf("no stubbed response for %s %s: add it to the case's \"fetch\" list", r.Method, u)
}

// unmatchedLines lists the requests no stub answered.
func (t *stubTransport) unmatchedLines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, u := range t.unmatched {
		out = append(out, "no stubbed response for "+u+`: add {"method", "url", "status", "json"|"text"} to the case's "fetch"`)
	}
	return out
}
