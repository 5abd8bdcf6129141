// Package client calls Flowgate's runtime API from an auth server written in
// Go: it sends a trigger's event, applies the deadline and the failure
// policy, and turns the Result into what the auth server must do (allow, or
// deny with a message, and the claims to add).
//
//	fg := client.New("https://flowgate.internal", os.Getenv("FLOWGATE_RUNTIME_TOKEN"))
//	res, err := fg.Trigger(ctx, "production", client.TriggerTokensGeneration, client.Event{…})
//	if err != nil { … a configuration mistake: wrong token, unknown trigger … }
//	d := res.Decide()
//	if !d.Allow { refuse with d.Message }
//	add d.AccessTokenClaims to the access token
//
// One Client is safe for concurrent use and reuses its connections: make one
// per process.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Triggers Flowgate runs workflows on.
const (
	TriggerTokensGeneration         = "user:tokens_generation"
	TriggerM2MTokenGeneration       = "m2m:token_generation"
	TriggerPreRegistration          = "user:pre_registration"
	TriggerPostAuthentication       = "user:post_authentication"
	TriggerNewPasswordProvided      = "user:new_password_provided"
	TriggerExistingPasswordProvided = "user:existing_password_provided"
	TriggerPreMFA                   = "user:pre_mfa"
	TriggerNewUsernameProvided      = "user:new_username_provided"
	TriggerPlanSelection            = "user:plan_selection"
	TriggerPlanCancellationRequest  = "user:plan_cancellation_request"
)

// Failure policies: what the auth server does when a workflow fails.
const (
	PolicyStop     = "stop"     // refuse: the auth flow ends with an error
	PolicyContinue = "continue" // go on as if no workflow ran
)

// Result statuses.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped" // no live workflow for the trigger
)

// KindUnavailable is the error kind of a Result the client made itself
// because Flowgate did not answer in time (or at all).
const KindUnavailable = "unavailable"

// Defaults.
const (
	DefaultTimeout = 3 * time.Second
	DefaultRetries = 2
	maxResultBytes = 4 << 20
)

// Client calls one Flowgate. The zero value is not usable: call New.
type Client struct {
	base          string
	token         string
	http          *http.Client
	timeout       time.Duration
	retries       int
	onUnavailable string
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout bounds each Trigger call, retries included, when the context
// has no earlier deadline (default 3 s). Keep it under the auth server's
// own budget for the step.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetries sets how many times a call is retried when the request never
// reached Flowgate (the connection was refused or could not be made);
// default 2. A request that reached Flowgate is never retried: the
// workflow may already have run.
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(n, 0) } }

// WithUnavailablePolicy is the failure policy when Flowgate does not answer
// in time or cannot be reached: PolicyStop (default: fail closed) or
// PolicyContinue. A workflow's own failures follow its failurePolicy.
func WithUnavailablePolicy(p string) Option { return func(c *Client) { c.onUnavailable = p } }

// WithHTTPClient replaces the HTTP client (its Transport should reuse
// connections; the default one keeps up to 64 idle connections).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a Client for the Flowgate at baseURL (e.g.
// "http://127.0.0.1:8080") using an environment's runtime token.
func New(baseURL, runtimeToken string, opts ...Option) *Client {
	c := &Client{
		base:          strings.TrimRight(baseURL, "/"),
		token:         runtimeToken,
		timeout:       DefaultTimeout,
		retries:       DefaultRetries,
		onUnavailable: PolicyStop,
	}
	for _, o := range opts {
		o(c)
	}
	if c.onUnavailable != PolicyContinue {
		c.onUnavailable = PolicyStop
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 64
		c.http = &http.Client{Transport: tr}
	}
	return c
}

// APIError is an answer that says the call itself is wrong (a bad token, an
// unknown trigger or environment, an event Flowgate cannot read): fix the
// configuration, retrying will not help.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("flowgate: %d %s: %s", e.Status, e.Code, e.Message)
}

// Trigger runs env's live workflow for trigger on event (an Event, or any
// value that marshals to the trigger's JSON event). An Event gets
// context.workflow.trigger filled in.
//
// It returns an error only for calls that are wrong (*APIError) or an
// event that cannot be encoded. When Flowgate does not answer in time or
// cannot be reached, it returns a failed Result whose error kind is
// KindUnavailable and whose failurePolicy is the client's unavailable
// policy, so Result.Decide covers every case.
func (c *Client) Trigger(ctx context.Context, env, trigger string, event any) (*Result, error) {
	if ev, ok := event.(Event); ok {
		event = &ev
	}
	if ev, ok := event.(*Event); ok && ev != nil {
		cp := *ev
		cp.Context.Workflow = &WorkflowInfo{Trigger: trigger}
		event = &cp
	}
	body, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("flowgate: encode the %s event: %w", trigger, err)
	}
	if _, has := ctx.Deadline(); !has && c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	endpoint := c.base + "/api/v1/environments/" + url.PathEscape(env) + "/triggers/" + url.PathEscape(trigger)
	var lastErr error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return c.unavailable(trigger, ctx.Err()), nil
			case <-time.After(time.Duration(attempt) * 25 * time.Millisecond):
			}
		}
		res, err, retry := c.do(ctx, endpoint, body)
		if err == nil || !retry {
			return res, err
		}
		lastErr = err
	}
	return c.unavailable(trigger, lastErr), nil
}

// do makes one call; retry says the request never reached Flowgate.
func (c *Client) do(ctx context.Context, endpoint string, body []byte) (res *Result, err error, retry bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("flowgate: %w", err), false
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if neverSent(err) && ctx.Err() == nil {
			return nil, err, true
		}
		return c.unavailable(triggerOf(endpoint), err), nil, false
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResultBytes))
	_, _ = io.Copy(io.Discard, resp.Body) // drain, so the connection is reused
	if err != nil {
		return c.unavailable(triggerOf(endpoint), err), nil, false
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var r Result
		if err := json.Unmarshal(data, &r); err != nil {
			return c.unavailable(triggerOf(endpoint), fmt.Errorf("unreadable Result: %w", err)), nil, false
		}
		return &r, nil, false
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		// Flowgate (or a proxy before it) could not take the call.
		return c.unavailable(triggerOf(endpoint), fmt.Errorf("HTTP %d", resp.StatusCode)), nil, false
	default:
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return nil, &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}, false
	}
}

// neverSent reports errors that happen before a request is written: the
// connection could not be made.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func triggerOf(endpoint string) string {
	t := endpoint[strings.LastIndex(endpoint, "/")+1:]
	if u, err := url.PathUnescape(t); err == nil {
		return u
	}
	return t
}

func (c *Client) unavailable(trigger string, cause error) *Result {
	msg := "Flowgate did not answer"
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &Result{Trigger: trigger, Status: StatusFailed, FailurePolicy: c.onUnavailable,
		Error: &Error{Kind: KindUnavailable, Message: msg}}
}
