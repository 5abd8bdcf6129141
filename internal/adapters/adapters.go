// Package adapters holds what the auth-server adapters (Ory Hydra's token
// hook, Ory Kratos' web hooks) share: how a hook request authenticates, how
// long a workflow may take before the failure policy decides, and how a
// Result becomes allow / deny / change. Each adapter translates its
// server's request into a trigger event and the outcome back into its
// server's answer; the workflow itself runs through the same call the
// runtime API makes.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/httpjson"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Runtime is what an adapter needs from the server: the runtime token check
// and the invocation the runtime API itself makes.
type Runtime interface {
	RuntimeTokenOK(ctx context.Context, env, token string) (bool, error)
	Invoke(ctx context.Context, env, trigger string, event []byte) (*workflow.Result, error)
}

// Limits and defaults shared by the adapters.
const (
	// MaxBody bounds a hook's request body (Hydra sends the whole session,
	// Kratos the flow and identity; both stay far below this).
	MaxBody = 1 << 20
	// DefaultTimeout is how long a hook waits for the workflow before the
	// failure policy decides; Hydra and Kratos give up on a hook after 30 s.
	DefaultTimeout = 10 * time.Second
	// MaxTimeout stays under the auth servers' own 30 s, so Flowgate always
	// answers (with the failure policy) before they time out and retry.
	MaxTimeout = 25 * time.Second
	minTimeout = 10 * time.Millisecond
)

// Policies an auth server applies when a workflow fails.
const (
	PolicyStop     = "stop"
	PolicyContinue = "continue"
)

// Token is the credential a hook request carries: the environment's runtime
// token as a Bearer token (Hydra's and Kratos' api_key auth with
// name Authorization and value "Bearer <token>"), or as the password of
// HTTP basic auth (Kratos' basic_auth; the user name is ignored).
func Token(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	return ""
}

// Options are per-request settings, read from the hook URL's query so they
// live in the auth server's configuration next to the URL.
type Options struct {
	// Timeout bounds the workflow run (?timeout=, a Go duration).
	Timeout time.Duration
	// Unavailable is the policy when Flowgate itself cannot answer (the
	// database is away, the deadline passed before the workflow started):
	// ?unavailable=stop|continue, default stop.
	Unavailable string
}

// ParseOptions reads ?timeout= and ?unavailable=.
func ParseOptions(r *http.Request) (Options, error) {
	o := Options{Timeout: DefaultTimeout, Unavailable: PolicyStop}
	q := r.URL.Query()
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minTimeout || d > MaxTimeout {
			return o, fmt.Errorf("timeout %q: want a duration from %s to %s, like 5s", trunc(v, 40), minTimeout, MaxTimeout)
		}
		o.Timeout = d
	}
	switch v := q.Get("unavailable"); v {
	case "", PolicyStop:
	case PolicyContinue:
		o.Unavailable = PolicyContinue
	default:
		return o, fmt.Errorf("unavailable %q: want stop or continue", trunc(v, 40))
	}
	return o, nil
}

// Verdict is what the auth server must do with one hook call.
type Verdict int

// Verdicts.
const (
	Allow Verdict = iota // go on, applying the Result's changes (claims, …)
	Deny                 // the workflow denied access (or invalidated a form field)
	Fail                 // the workflow failed (or Flowgate could not answer) and the policy is stop
)

// Outcome is one hook call's decision.
type Outcome struct {
	Verdict Verdict
	// Result is the workflow's Result; nil when Flowgate could not answer.
	Result *workflow.Result
	// Failed is set when the workflow failed or Flowgate could not answer,
	// whatever the policy decided (the metrics and logs say so).
	Failed bool
}

// Run invokes trigger's live workflow on event within opts.Timeout and
// decides. It never fails: errors become the failure policy's verdict.
func Run(ctx context.Context, rt Runtime, log *slog.Logger, env, trigger string, event []byte, opts Options) Outcome {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	res, err := rt.Invoke(ctx, env, trigger, event)
	if err != nil {
		// Only the error's class is logged: events carry tokens and passwords.
		log.Warn("adapter: Flowgate could not run the workflow", "env", env, "trigger", trigger,
			"policy", opts.Unavailable, "deadline", errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil)
		return Outcome{Verdict: verdictFor(opts.Unavailable), Failed: true}
	}
	return Decide(res)
}

// Decide turns a Result into a verdict: skipped and succeeded allow unless
// the workflow denied access or invalidated a form field; failed follows
// its failurePolicy.
func Decide(res *workflow.Result) Outcome {
	o := Outcome{Result: res}
	switch {
	case res == nil:
		o.Verdict, o.Failed = Fail, true
	case res.Status == workflow.StatusFailed:
		o.Failed = true
		o.Verdict = verdictFor(res.FailurePolicy)
	case res.Auth != nil && res.Auth.Denied:
		o.Verdict = Deny
	case res.Widget != nil && len(res.Widget.InvalidFormFields) > 0:
		o.Verdict = Deny
	}
	return o
}

func verdictFor(policy string) Verdict {
	if policy == PolicyContinue {
		return Allow
	}
	return Fail
}

// Authorize checks the hook request's token against env's runtime token
// (constant time, by hash) and answers 401 when it does not match.
func Authorize(w http.ResponseWriter, r *http.Request, rt Runtime, log *slog.Logger, env string) bool {
	if err := workflow.CheckEnvironment(env); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_environment", err.Error())
		return false
	}
	tok := Token(r)
	ok, err := rt.RuntimeTokenOK(r.Context(), env, tok)
	if err != nil {
		log.Error("adapter: runtime token check failed", "env", env, "err", err)
		httpjson.Error(w, http.StatusServiceUnavailable, "unavailable", "the runtime token could not be checked")
		return false
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowgate-runtime"`)
		httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "the hook needs the environment's runtime token (Authorization: Bearer <token>, or as the basic-auth password)")
		return false
	}
	return true
}

// ReadBody reads a hook body of at most MaxBody bytes, answering 413 past it.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpjson.Error(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the hook body is larger than %d bytes", MaxBody))
		} else {
			httpjson.Error(w, http.StatusBadRequest, "bad_body", "the hook body could not be read")
		}
		return nil, false
	}
	return b, true
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Accept is the start every hook shares: the caller is authorized for
// env, the hook URL's options parse, and the body is read within bounds.
// On false it has already answered.
func Accept(w http.ResponseWriter, r *http.Request, rt Runtime, log *slog.Logger, env string) (Options, []byte, bool) {
	if !Authorize(w, r, rt, log, env) {
		return Options{}, nil, false
	}
	opts, err := ParseOptions(r)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_hook_url", err.Error())
		return Options{}, nil, false
	}
	body, ok := ReadBody(w, r)
	return opts, body, ok
}
