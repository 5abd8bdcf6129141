package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
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

// Run executes inv and always returns a Result: failures (exceptions,
// rejections, limits, host panics) are a failed Result, never a Go error.
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
	if p == nil {
		res.Error = &workflow.Error{Message: "no program loaded"}
		return
	}
	if err := ctx.Err(); err != nil {
		res.Error = &workflow.Error{Message: errCancelled.Error()}
		return
	}
	s, err := e.get(p)
	if err != nil {
		res.Error = &workflow.Error{Message: "start runtime: " + err.Error()}
		return
	}
	if e.invoke(ctx, p, s, inv, res) {
		e.put(p, s)
	}
}

// invoke runs the program once on s and reports whether s may be reused.
func (e *Engine) invoke(ctx context.Context, p *Program, s *slot, inv Invocation, res *workflow.Result) (reuse bool) {
	vm := s.vm
	rc := newRunCtx(ctx, e.limits.WallTime)
	s.arm(rc, e.limits.WallTime)
	var stopParent func() bool
	if parent := ctx; parent.Done() != nil {
		stopParent = context.AfterFunc(parent, func() {
			err := parent.Err()
			if rc.end(err) {
				if errors.Is(err, context.DeadlineExceeded) {
					vm.Interrupt(errDeadline{e.limits.WallTime})
				} else {
					vm.Interrupt(errCancelled)
				}
			}
		})
	}
	ctx = rc
	w := e.gov.start(vm)
	redact := func(s string) string { return s }
	defer func() {
		// A deadline or cancel that fired as the run ended may have left
		// an interrupt pending on vm, which would end the next run on it:
		// such a runtime is not reused.
		fired := !s.disarm()
		if stopParent != nil && !stopParent() {
			fired = true
		}
		rc.end(context.Canceled) // the run is over: end what it started (fetch)
		memHit := e.gov.stop(w)
		if r := recover(); r != nil {
			// A panic in host code: the runtime's state is unknown. An
			// interrupt (wall time, cancel, memory) that landed while host
			// code ran JS unwinds this way too, and is reported as itself.
			if ie, ok := r.(*goja.InterruptedError); ok {
				res.Error = e.jsError(p, vm, ie, redact)
			} else {
				res.Error = &workflow.Error{Message: redact(fmt.Sprintf("internal error: %v", r))}
			}
			reuse = false
		}
		if memHit && res.Error == nil {
			res.Error = &workflow.Error{Message: errMemory{e.limits.MemoryBytes}.Error()}
		}
		if reuse && (res.Error != nil || memHit || fired) {
			reuse = false
		}
	}()

	cfg := inv.Bindings
	if cfg == nil {
		cfg = &bindings.Config{}
	}
	if cfg.Settings.Trigger == "" && cfg.Settings.ID == "" && cfg.Settings.Bindings == nil {
		c := *cfg
		c.Settings = inv.Settings
		cfg = &c
	}
	var b Bindings
	if s.realm != nil {
		b = s.realm.New(ctx, cfg, res)
	} else {
		b = e.newBindings(ctx, vm, cfg, res)
	}
	redact = b.Redact
	fail := func(err error) bool {
		res.Error = e.jsError(p, vm, err, redact)
		return false
	}

	event, err := s.keys.value(vm, inv.Event)
	if err != nil {
		res.Error = &workflow.Error{Message: err.Error()}
		return true // nothing ran
	}
	module := vm.NewObject()
	exports := vm.NewObject()
	_ = module.Set("exports", exports)
	if _, err := s.wrapper(exports, module, exports, s.require, b.Kinde(), b.Console()); err != nil {
		return fail(err)
	}
	fn, this, err := entryPoint(vm, module)
	if err != nil {
		return fail(err)
	}
	ret, err := fn(this, event)
	if err != nil {
		return fail(err)
	}
	if obj, ok := ret.(*goja.Object); ok {
		if obj.ExportType() == promiseType {
			pr := obj.Export().(*goja.Promise)
			switch pr.State() {
			case goja.PromiseStatePending:
				return fail(errNeverSettled)
			case goja.PromiseStateRejected:
				return fail(rejection{pr.Result()})
			}
		}
	}
	if err := checkResultSize(res, e.limits.MaxResultBytes); err != nil {
		res.Error = &workflow.Error{Message: err.Error()}
		return true
	}
	return true
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
		return nil, nil, errors.New("the workflow has no default export: export default an async function")
	}
	if fn, ok := goja.AssertFunction(def); ok {
		return fn, goja.Undefined(), nil
	}
	if o, ok := def.(*goja.Object); ok {
		if fn, ok := goja.AssertFunction(o.Get("handle")); ok {
			return fn, o, nil
		}
	}
	return nil, nil, errors.New("the default export is not a function nor an object with a handle method")
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
		return fmt.Errorf("result too large: the workflow's claims and logs exceed %d bytes", max)
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
