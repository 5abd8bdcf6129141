// Package outbound is workflow HTTP: the policy that bounds it (which
// hosts, how long, how large, how many per run), the process-wide owner of
// the guarded HTTP clients, and a per-run Session that counts every
// request a run makes — kinde.fetch, kinde.secureFetch and the JWKS
// fetches of kinde.cache alike — against one cap.
package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/netguard"
)

// Policy defaults.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	DefaultMaxRequestBytes  = 1 << 20
	DefaultMaxRequests      = 10
	MaxRedirects            = 5
	// DefaultMaxClients bounds the distinct allow-lists a Clients keeps a
	// client (and its idle connections) for.
	DefaultMaxClients = 16
)

// Policy bounds outbound HTTP from workflows. The zero value refuses every
// special-purpose address (netguard) and applies the defaults.
type Policy struct {
	AllowHosts       []string      // host or host:port reachable even when private (dev/tests)
	Timeout          time.Duration // per request; default 10s
	MaxResponseBytes int64         // default 1 MiB
	MaxRequestBytes  int64         // request body; default 1 MiB
	MaxRequests      int           // per run, every kind of request; default 10
	// Transport, when set, is used instead of the guarded network (tests
	// and `flowgate test`, which answer requests from stubs). AllowHosts
	// and the address checks do not apply to it.
	Transport http.RoundTripper
	// Record, when set, keeps what every request was answered (replay's
	// capture); the requests still go through Transport or the network.
	Record *Recorder
}

// RequestTimeout is the per-request timeout in force.
func (p *Policy) RequestTimeout() time.Duration {
	if p == nil || p.Timeout <= 0 {
		return DefaultTimeout
	}
	return p.Timeout
}

// ResponseLimit is the largest response body in force, in bytes.
func (p *Policy) ResponseLimit() int64 {
	if p == nil || p.MaxResponseBytes <= 0 {
		return DefaultMaxResponseBytes
	}
	return p.MaxResponseBytes
}

// RequestBodyLimit is the largest request body in force, in bytes.
func (p *Policy) RequestBodyLimit() int64 {
	if p == nil || p.MaxRequestBytes <= 0 {
		return DefaultMaxRequestBytes
	}
	return p.MaxRequestBytes
}

// RequestLimit is the number of requests a run may make.
func (p *Policy) RequestLimit() int {
	if p == nil || p.MaxRequests <= 0 {
		return DefaultMaxRequests
	}
	return p.MaxRequests
}

func (p *Policy) allowHosts() []string {
	if p == nil {
		return nil
	}
	return p.AllowHosts
}

// Clients owns the guarded HTTP clients of a process (or an Engine): one
// per allow-list, so connections are reused across runs, at most max of
// them (the least recently used is closed to make room). Close closes
// every idle connection. It is safe for concurrent use.
type Clients struct {
	max int

	mu      sync.Mutex
	clients map[string]*clientEntry
	tick    uint64
	closed  bool
}

type clientEntry struct {
	c    *http.Client
	used uint64
}

// NewClients returns an owner keeping at most max clients (default
// DefaultMaxClients when max <= 0).
func NewClients(max int) *Clients {
	if max <= 0 {
		max = DefaultMaxClients
	}
	return &Clients{max: max, clients: map[string]*clientEntry{}}
}

// Close closes the idle connections of every client; clients handed out
// before stay usable (they dial anew), later ones are not kept.
func (cs *Clients) Close() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for k, e := range cs.clients {
		e.c.CloseIdleConnections()
		delete(cs.clients, k)
	}
	cs.closed = true
}

// Len is the number of clients kept.
func (cs *Clients) Len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.clients)
}

// client returns the client for policy p (see base), its answers
// recorded when p asks for it.
func (cs *Clients) client(p *Policy) *http.Client {
	c := cs.base(p)
	if p != nil && p.Record != nil {
		return &http.Client{Transport: p.Record.wrap(c.Transport), CheckRedirect: c.CheckRedirect}
	}
	return c
}

// base returns the client for policy p: p's own Transport when set, a
// kept guarded client for p's allow-list, or (cs nil or closed) a guarded
// client that keeps no idle connections.
func (cs *Clients) base(p *Policy) *http.Client {
	if p != nil && p.Transport != nil {
		return &http.Client{Transport: p.Transport, CheckRedirect: checkRedirect}
	}
	allow := slices.Clone(p.allowHosts())
	slices.Sort(allow)
	if cs == nil {
		return newGuarded(allow, false)
	}
	key := strings.Join(allow, "\x00")
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return newGuarded(allow, false)
	}
	cs.tick++
	if e, ok := cs.clients[key]; ok {
		e.used = cs.tick
		return e.c
	}
	if len(cs.clients) >= cs.max {
		oldKey, oldest := "", uint64(0)
		for k, e := range cs.clients {
			if oldKey == "" || e.used < oldest {
				oldKey, oldest = k, e.used
			}
		}
		cs.clients[oldKey].c.CloseIdleConnections()
		delete(cs.clients, oldKey)
	}
	c := newGuarded(allow, true)
	cs.clients[key] = &clientEntry{c: c, used: cs.tick}
	return c
}

func newGuarded(allow []string, keepAlive bool) *http.Client {
	d := &netguard.Dialer{Allow: allow, Timeout: DefaultTimeout}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would dial for us and bypass the address check
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			DisableKeepAlives:     !keepAlive,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   DefaultTimeout,
			ResponseHeaderTimeout: 0, // bounded by the request context
		},
		CheckRedirect: checkRedirect,
	}
}

// ErrTooManyRedirects ends a redirect chain longer than MaxRedirects.
var ErrTooManyRedirects = errors.New("too many redirects")

// checkRedirect re-checks every hop: the scheme here, the address in the
// dialer (a redirect to a refused host fails when it is dialled).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("%w (more than %d)", ErrTooManyRedirects, MaxRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &RedirectRefusedError{Scheme: s}
	}
	return nil
}

// RedirectRefusedError is a redirect to a scheme other than http(s).
type RedirectRefusedError struct{ Scheme string }

func (e *RedirectRefusedError) Error() string {
	return fmt.Sprintf("redirect to a %q URL refused: only http and https are allowed", e.Scheme)
}

// TooManyRequestsError is a request over the run's cap.
type TooManyRequestsError struct{ Limit int }

func (e *TooManyRequestsError) Error() string {
	return fmt.Sprintf("too many requests: a workflow may make at most %d HTTP requests per run (fetches and JWKS fetches together)", e.Limit)
}

// TooLargeError is a response (or, with Request set, a request body)
// over its size limit.
type TooLargeError struct {
	Host    string
	Limit   int64
	Request bool
}

func (e *TooLargeError) Error() string {
	if e.Request {
		return fmt.Sprintf("the request body for %s is larger than the %d-byte limit", e.Host, e.Limit)
	}
	return fmt.Sprintf("the response from %s is larger than the %d-byte limit", e.Host, e.Limit)
}

// Session is one run's outbound HTTP: its policy, its clients and the
// count of requests made so far. It is used by one run at a time.
type Session struct {
	ctx      context.Context
	policy   *Policy
	clients  *Clients
	requests int
}

// NewSession starts counting requests for one run; ctx ends them all when
// the run ends. clients may be nil (no connection reuse).
func NewSession(ctx context.Context, p *Policy, clients *Clients) *Session {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Session{ctx: ctx, policy: p, clients: clients}
}

// Policy is the session's policy (nil means the defaults).
func (s *Session) Policy() *Policy { return s.policy }

// Requests is the number of requests counted so far.
func (s *Session) Requests() int { return s.requests }

// Request is one outbound request.
type Request struct {
	Method string
	URL    string // absolute http(s) URL, already parsed and serialised
	Header http.Header
	Body   []byte // nil for none
}

// Response is a whole, size-checked response.
type Response struct {
	Status     int
	StatusText string
	URL        string // after redirects
	Header     http.Header
	Body       []byte
}

// Do counts the request against the run's cap, sends it under the policy
// and reads the body up to the size limit. Its errors are
// *TooManyRequestsError, *TooLargeError, *netguard.BlockedError or
// transport errors; Describe turns any of them into a message.
func (s *Session) Do(r Request) (*Response, error) {
	s.requests++
	if limit := s.policy.RequestLimit(); s.requests > limit {
		return nil, &TooManyRequestsError{Limit: limit}
	}
	if limit := s.policy.RequestBodyLimit(); int64(len(r.Body)) > limit {
		host := r.URL
		if u, err := url.Parse(r.URL); err == nil {
			host = u.Host
		}
		return nil, &TooLargeError{Host: host, Limit: limit, Request: true}
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.policy.RequestTimeout())
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, err
	}
	if r.Header != nil {
		req.Header = r.Header
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "flowgate-workflows")
	}
	resp, err := s.clients.client(s.policy).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := s.policy.ResponseLimit()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Host: req.URL.Host, Limit: limit}
	}
	return &Response{
		Status:     resp.StatusCode,
		StatusText: strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))),
		URL:        resp.Request.URL.String(),
		Header:     resp.Header,
		Body:       data,
	}, nil
}

// Describe turns an error of Do into a message naming the host and the
// cause, without the full URL (its query may hold secrets).
func (s *Session) Describe(host string, err error) string {
	var blocked *netguard.BlockedError
	var many *TooManyRequestsError
	var large *TooLargeError
	switch {
	case errors.As(err, &blocked):
		return describeBlocked(blocked)
	case errors.As(err, &many), errors.As(err, &large):
		return err.Error()
	case errors.Is(err, ErrTooManyRedirects):
		return "request to " + host + " failed: too many redirects (at most " + strconv.Itoa(MaxRedirects) + " are followed)"
	case errors.Is(err, context.DeadlineExceeded) && s.ctx.Err() == nil:
		return "request to " + host + " timed out after " + s.policy.RequestTimeout().String()
	case s.ctx.Err() != nil:
		return "request to " + host + " cancelled: the run has ended"
	}
	return "request to " + host + " failed: " + networkReason(err)
}

// IsPolicy reports whether err is a refusal by the policy (a refused
// address, the request cap, the size limit, a refused redirect) rather
// than a failure of the network or the server.
func IsPolicy(err error) bool {
	var blocked *netguard.BlockedError
	var many *TooManyRequestsError
	var large *TooLargeError
	var redirect *RedirectRefusedError
	return errors.As(err, &blocked) || errors.As(err, &many) || errors.As(err, &large) ||
		errors.As(err, &redirect) || errors.Is(err, ErrTooManyRedirects)
}
