package githubapp

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says how GitHub requests are retried on 5xx answers,
// network errors and rate limits.
type RetryPolicy struct {
	Attempts int           // tries in all; default 4
	Base     time.Duration // first backoff, doubled each time; default 500ms
	Max      time.Duration // longest wait, Retry-After included; default 60s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 4
	}
	if p.Base <= 0 {
		p.Base = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = time.Minute
	}
	return p
}

// retryTransport retries what GitHub says can be retried: 5xx answers,
// 429, and 403 with a rate-limit signal, waiting Retry-After (or until
// X-RateLimit-Reset) when given, else backing off exponentially. A 5xx
// on a POST is retried too: GitHub answers 5xx before acting, and the
// operations Flowgate posts (check runs, comments, deployments) are
// harmless if one were ever doubled.
type retryTransport struct {
	base   http.RoundTripper
	policy RetryPolicy
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.GetBody == nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	wait := t.policy.Base
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 || body != nil {
			r = req.Clone(req.Context())
			switch {
			case body != nil:
				r.Body = io.NopCloser(bytes.NewReader(body))
			case req.GetBody != nil:
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = b
			}
		}
		resp, err := t.base.RoundTrip(r)
		if attempt >= t.policy.Attempts || !retryable(resp, err) {
			return resp, err
		}
		d := wait
		if resp != nil {
			if ra := retryAfter(resp); ra > 0 {
				d = ra
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		d = min(d, t.policy.Max)
		select {
		case <-time.After(d):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		wait *= 2
	}
}

func retryable(resp *http.Response, err error) bool {
	if err != nil {
		return true
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return true
	case resp.StatusCode == http.StatusForbidden:
		return resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-RateLimit-Remaining") == "0"
	}
	return false
}

// retryAfter reads Retry-After (seconds) or, for a spent rate limit,
// the time until X-RateLimit-Reset.
func retryAfter(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			if d := time.Until(time.Unix(reset, 0)); d > 0 {
				return d
			}
		}
	}
	return 0
}
