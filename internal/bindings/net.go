package bindings

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/netguard"
)

// NetPolicy defaults.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	DefaultMaxRequests      = 10
	MaxRedirects            = 5
)

func (p *NetPolicy) timeout() time.Duration {
	if p == nil || p.Timeout <= 0 {
		return DefaultTimeout
	}
	return p.Timeout
}

func (p *NetPolicy) maxResponseBytes() int64 {
	if p == nil || p.MaxResponseBytes <= 0 {
		return DefaultMaxResponseBytes
	}
	return p.MaxResponseBytes
}

func (p *NetPolicy) maxRequests() int {
	if p == nil || p.MaxRequests <= 0 {
		return DefaultMaxRequests
	}
	return p.MaxRequests
}

func (p *NetPolicy) allowHosts() []string {
	if p == nil {
		return nil
	}
	return p.AllowHosts
}

// clients holds one HTTP client per allow-list, so connections are reused
// across invocations instead of dialled per request. The set of distinct
// allow-lists is small (one per configuration).
var clients sync.Map // string -> *http.Client

// clientFor returns the shared guarded client for policy p. Timeouts and
// size limits are applied per request, so only the allow-list matters.
func clientFor(p *NetPolicy) *http.Client {
	if p != nil && p.Transport != nil {
		return &http.Client{Transport: p.Transport, CheckRedirect: checkRedirect}
	}
	allow := slices.Clone(p.allowHosts())
	slices.Sort(allow)
	key := strings.Join(allow, "\x00")
	if c, ok := clients.Load(key); ok {
		return c.(*http.Client)
	}
	d := &netguard.Dialer{Allow: allow, Timeout: DefaultTimeout}
	c := &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would dial for us and bypass the address check
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   DefaultTimeout,
			ResponseHeaderTimeout: 0, // bounded by the request context
		},
		CheckRedirect: checkRedirect,
	}
	actual, _ := clients.LoadOrStore(key, c)
	return actual.(*http.Client)
}

// errTooManyRedirects ends a redirect chain longer than MaxRedirects.
var errTooManyRedirects = errors.New("too many redirects")

// checkRedirect re-checks every hop: the scheme here, the address in the
// dialer (a redirect to a private host fails when it is dialled).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("%w (more than %d)", errTooManyRedirects, MaxRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("redirect to a %q URL refused: only http and https are allowed", s)
	}
	return nil
}
