package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Invocation is one run of a loaded program.
type Invocation struct {
	Program  *Program
	Settings workflow.Settings
	Event    []byte           // the trigger's event JSON; empty means {}
	Bindings *bindings.Config // nil means no env, no network, no cache
}

// errNeverSettled fails a run whose promise is still pending after the job
// queue drained: every host call is synchronous, so nothing can settle it.
var errNeverSettled = errors.New("workflow promise never settled: the default export returned a promise " +
	"that nothing can resolve (every kinde.* call is synchronous, and there are no timers)")

// interrupt values other than errMemory.
type errDeadline struct{ d time.Duration }

func (e errDeadline) Error() string {
	return fmt.Sprintf("execution time exceeded: the workflow ran longer than %s", e.d)
}

var errCancelled = errors.New("execution cancelled")

var errClosed = errors.New("the engine is closed")

// Run executes inv and always returns a Result: failures (exceptions,
// rejections, limits, host panics) are a failed Result with a kind, never
// a Go error.
func (e *Engine) Run(ctx context.Context, inv Invocation) *workflow.Result {
	start := time.Now()
	res := &workflow.Result{
		WorkflowID:    inv.Settings.ID,
		Trigger:       inv.Settings.Trigger,
		FailurePolicy: inv.Settings.Policy(),
	}
	e.run(ctx, inv, res)
	if res.Error != nil {
		res.Status = workflow.StatusFailed
	} else {
		res.Status = workflow.StatusSucceeded
	}
	res.DurationMs = float64(time.Since(start).Microseconds()) / 1000
	return res
}

func (e *Engine) run(ctx context.Context, inv Invocation, res *workflow.Result) {
	p := inv.Program
	switch {
	case p == nil:
		res.Error = &workflow.Error{Kind: workflow.KindLoad, Message: "no program loaded"}
		return
	case e.closed.Load():
		res.Error = &workflow.Error{Kind: workflow.KindInternal, Message: errClosed.Error()}
		return
	}
	if err := ctx.Err(); err != nil {
		res.Error = &workflow.Error{Kind: workflow.KindTimeout, Message: errCancelled.Error()}
		return
	}
	s, err := e.get(p)
	if err != nil {
		res.Error = &workflow.Error{Kind: workflow.KindInternal, Message: "start runtime: " + err.Error()}
		return
	}
	if e.invoke(ctx, p, s, inv, res) {
		e.put(p, s)
	}
}

// bounded runs fn as one run on s: under the wall time (and ctx), the
// memory budget and the guards' per-run state, with host panics
// recovered. Both invocations and settings reading (Inspect) run through
// it. fn's error, and whatever else ended the run, comes back as an
// *Error whose kind says what happened; describe (may be nil) turns it
// into what the caller reports while the run's limits still hold (the
// wall time cut to describeTime), since describing a thrown value may run
// its getters and toString. clean reports whether the runtime may run
// again.
func (e *Engine) bounded(ctx context.Context, s *slot, fn func(ctx context.Context) error, describe func(*Error)) (rerr *Error, clean bool) {
	s.why.Store(nil)
	rc := newRunCtx(ctx, e.limits.WallTime)
	s.arm(rc, e.limits.WallTime)
	var stopParent func() bool
	if parent := ctx; parent.Done() != nil {
		stopParent = context.AfterFunc(parent, func() {
			err := parent.Err()
			if rc.end(err) {
				if errors.Is(err, context.DeadlineExceeded) {
					s.interrupt(errDeadline{e.limits.WallTime})
				} else {
					s.interrupt(errCancelled)
				}
			}
		})
	}
	w := e.gov.start(s, e.limits.MemoryBytes)
	if s.guards != nil {
		s.guards.begin()
		s.guards.gov, s.guards.watch = e.gov, w
	}
	panicked := false
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				panicked = true
				if ie, ok := r.(*goja.InterruptedError); ok {
					err = ie
				} else {
					err = &Error{Kind: workflow.KindInternal, Err: fmt.Errorf("internal error: %v", r)}
				}
			}
		}()
		return fn(rc)
	}()
	// What interrupted the run (a limit) names its kind, whatever error
	// surfaced (a guard may have thrown first to end a native loop).
	why := s.stopped()
	if why == nil && err != nil {
		// A limit ends the run's context (cancelling its host calls)
		// a moment before it interrupts the runtime: a run that failed
		// on such a cancelled call was ended by that limit.
		switch rerr := rc.Err(); {
		case errors.Is(rerr, context.DeadlineExceeded):
			why = errDeadline{e.limits.WallTime}
		case rerr != nil:
			why = errCancelled
		}
	}
	if err == nil && why != nil && e.gov.hit(w) {
		err = why // over the memory budget, though the run finished first
	}
	if err != nil {
		rerr = e.classify(s, err, why)
		if describe != nil {
			s.shorten(rc, describeTime)
			func() {
				defer func() {
					if r := recover(); r != nil {
						rerr.Err = fmt.Errorf("%s (the error could not be described)", errText(rerr.Err))
					}
				}()
				describe(rerr)
			}()
		}
	}
	// A deadline or cancel that fired as the run ended may have left an
	// interrupt pending on the runtime, which would end the next run on
	// it: such a runtime is not reused.
	fired := !s.disarm()
	if stopParent != nil && !stopParent() {
		fired = true
	}
	rc.end(context.Canceled) // the run is over: end what it started (fetch)
	memHit := e.gov.stop(w)
	if s.guards != nil {
		s.guards.end()
	}
	if memHit && rerr == nil {
		rerr = &Error{Kind: workflow.KindMemory, Err: errMemory{e.limits.MemoryBytes}}
	}
	clean = rerr == nil && !fired && !memHit && !panicked && s.stopped() == nil
	return rerr, clean
}

// classify gives err its kind: a limit that interrupted the run wins,
// then the kind a guard recorded for the value it threw, then the error's
// own type.
func (e *Engine) classify(s *slot, err, why error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	if why != nil {
		var ie *goja.InterruptedError
		if !errors.As(err, &ie) {
			err = why // a guard ended a native loop: report the limit itself
		}
		return &Error{Kind: KindOf(why), Err: err}
	}
	if s.guards != nil {
		if k, ok := s.guards.kindOf(thrownValue(err)); ok {
			return &Error{Kind: k, Err: err}
		}
	}
	return &Error{Kind: KindOf(err), Err: err}
}

func errText(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = "[unprintable error]"
		}
	}()
	return err.Error()
}

// invoke runs the program once on s and reports whether s may be reused.
func (e *Engine) invoke(ctx context.Context, p *Program, s *slot, inv Invocation, res *workflow.Result) (reuse bool) {
	vm := s.vm
	var b Bindings
	redact := func(s string) string { return s }
	var werr *workflow.Error
	rerr, clean := e.bounded(ctx, s, func(ctx context.Context) error {
		cfg := inv.Bindings
		if cfg == nil {
			cfg = &bindings.Config{}
		}
		c := *cfg
		if c.Settings.Trigger == "" && c.Settings.ID == "" && c.Settings.Bindings == nil {
			c.Settings = inv.Settings
		}
		if c.MapStack == nil {
			c.MapStack = p.mapStack
		}
		if s.realm != nil {
			b = s.realm.New(ctx, &c, res)
		} else {
			b = e.newBindings(ctx, vm, &c, res)
		}
		redact = b.Redact

		event, err := s.keys.value(vm, inv.Event)
		if err != nil {
			return &Error{Kind: workflow.KindInternal, Err: err}
		}
		module := vm.NewObject()
		exports := vm.NewObject()
		_ = module.Set("exports", exports)
		kinde, console := b.Kinde(), b.Console()
		s.setCurrent(kinde, console)
		if _, err := s.wrapper(exports, module, exports, s.require, kinde, console); err != nil {
			return err
		}
		fn, this, err := entryPoint(vm, module)
		if err != nil {
			return err
		}
		ret, err := fn(this, event)
		if err != nil {
			return err
		}
		if obj, ok := ret.(*goja.Object); ok && obj.ExportType() == promiseType {
			pr := obj.Export().(*goja.Promise)
			switch pr.State() {
			case goja.PromiseStatePending:
				return errNeverSettled
			case goja.PromiseStateRejected:
				return rejection{pr.Result()}
			}
		}
		return nil
	}, func(re *Error) {
		if re.Kind == workflow.KindThrown && b != nil {
			if v := thrownValue(re); v != nil && b.BindingError(v) != nil {
				re.Kind = workflow.KindBinding
			}
		}
		werr = e.jsError(p, s, re, redact)
	})
	endInvocation(s, b)
	if rerr != nil {
		res.Error = werr
		if res.Error == nil {
			res.Error = &workflow.Error{Kind: rerr.Kind, Message: redact(errText(rerr.Err))}
		}
		res.Error.Kind = rerr.Kind
		e.explainUndeclared(b, res.Error)
		explainKindeMistakes(b, res.Error)
		return false
	}
	if err := checkResultSize(res, e.limits.MaxResultBytes); err != nil {
		res.Error = &workflow.Error{Kind: workflow.KindResultTooLarge, Message: err.Error()}
	}
	return clean
}

// endInvocation drops what the runtime holds of the invocation that just
// ended — its bindings (env secrets, key, event, result) — so an idle
// pooled runtime keeps none of it.
func endInvocation(s *slot, b Bindings) {
	s.clearCurrent()
	if s.realm != nil {
		s.realm.End()
	}
	if e, ok := b.(interface{ End() }); ok {
		e.End()
	}
}

// explainUndeclared appends to a failed run's message the kinde.*
// bindings the code read without declaring them, and how to declare them.
func (e *Engine) explainUndeclared(b Bindings, werr *workflow.Error) {
	if b == nil {
		return
	}
	names := b.Undeclared()
	if len(names) == 0 {
		return
	}
	if werr.Kind == workflow.KindThrown {
		// The code read a binding it did not declare and then failed:
		// almost always because of it (undefined is not a function).
		werr.Kind = workflow.KindBinding
	}
	var decl []string
	for _, n := range names {
		if n == cacheBinding {
			// kinde.cache is not declared itself: it comes with kinde.fetch.
			n = workflow.BindFetch
			if slices.Contains(names, n) {
				continue
			}
		}
		if d := fmt.Sprintf("%q: {}", n); !slices.Contains(decl, d) {
			decl = append(decl, d)
		}
	}
	werr.Message += fmt.Sprintf(" (the workflow read %s without declaring it: add %s to workflowSettings.bindings",
		strings.Join(names, ", "), strings.Join(decl, ", "))
	if slices.Contains(names, cacheBinding) {
		werr.Message += "; kinde.cache exists when kinde.fetch or kinde.secureFetch is declared"
	}
	werr.Message += ")"
}

// thrownValue is the JS value an exception or rejection carries.
func thrownValue(err error) goja.Value {
	var ex *goja.Exception
	var rj rejection
	switch {
	case errors.As(err, &ex):
		return ex.Value()
	case errors.As(err, &rj):
		return rj.v
	}
	return nil
}

var promiseType = reflect.TypeOf((*goja.Promise)(nil))

// rejection carries a rejected promise's reason to jsError.
type rejection struct{ v goja.Value }

func (r rejection) Error() string { return "rejected: " + r.v.String() }

// entryPoint finds the default export: a function, or an object with a
// handle method; a bundle that assigns module.exports = fn works too.
func entryPoint(vm *goja.Runtime, module *goja.Object) (goja.Callable, goja.Value, error) {
	exp := module.Get("exports")
	var def goja.Value
	if o, ok := exp.(*goja.Object); ok {
		def = o.Get("default")
	}
	if def == nil || goja.IsUndefined(def) {
		if fn, ok := goja.AssertFunction(exp); ok {
			return fn, goja.Undefined(), nil
		}
		return nil, nil, errNoEntry{"the workflow has no default export: export default an async function"}
	}
	if fn, ok := goja.AssertFunction(def); ok {
		return fn, goja.Undefined(), nil
	}
	if o, ok := def.(*goja.Object); ok {
		if fn, ok := goja.AssertFunction(o.Get("handle")); ok {
			return fn, o, nil
		}
	}
	return nil, nil, errNoEntry{"the default export is not a function nor an object with a handle method"}
}

// checkResultSize is a backstop over the bindings' own caps on claims and
// logs: the whole Result a run produced must stay small.
func checkResultSize(res *workflow.Result, max int) error {
	n := 0
	for _, l := range res.Logs {
		n += len(l.Message) + 32
	}
	for _, t := range []*workflow.Token{res.AccessToken, res.IDToken, res.M2MToken} {
		if t == nil || len(t.CustomClaims) == 0 {
			continue
		}
		size, err := jsonSize(t.CustomClaims)
		if err != nil {
			return fmt.Errorf("custom claims are not JSON: %v", err)
		}
		n += size
	}
	if n > max {
		res.Logs = nil
		res.AccessToken, res.IDToken, res.M2MToken = nil, nil, nil
		return errResultTooLarge{fmt.Sprintf("result too large: the workflow's claims and logs exceed %d bytes", max)}
	}
	return nil
}

// jsonSize is an upper bound of len(json.Marshal(v)) for the values
// claims hold (what encoding/json decodes to), without building the text;
// other types are marshalled.
func jsonSize(v any) (int, error) {
	switch t := v.(type) {
	case nil:
		return 4, nil
	case bool:
		return 5, nil
	case float64:
		return 24, nil
	case string:
		n := 2
		for i := 0; i < len(t); i++ {
			if c := t[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				n += 6 // at most \u00XX
			} else {
				n++
			}
		}
		return n, nil
	case []any:
		n := 2 + len(t)
		for _, e := range t {
			m, err := jsonSize(e)
			if err != nil {
				return 0, err
			}
			n += m
		}
		return n, nil
	case map[string]any:
		n := 2 + len(t)
		for k, e := range t {
			m, err := jsonSize(e)
			if err != nil {
				return 0, err
			}
			n += len(k) + 3 + m
		}
		return n, nil
	}
	b, err := json.Marshal(v)
	return len(b), err
}

// cacheBinding is kinde.cache, which a workflow gets by declaring
// kinde.fetch or kinde.secureFetch, never by name.
const cacheBinding = "kinde.cache"
