package project

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/diag"
	wfruntime "github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/srcmap"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Limits on evaluating a workflow's top-level code to read its settings.
const (
	// SettingsTimeout bounds the wall time of one evaluation.
	SettingsTimeout = 2 * time.Second
	// SettingsMaxCallStack bounds the call depth during evaluation.
	SettingsMaxCallStack = 1000
)

// bundleName is the name the bundle is compiled under (its source map's file).
const bundleName = "bundle.js"

// introspection is what evaluating a bundle once without bindings told.
type introspection struct {
	settings    workflow.Settings
	hasSettings bool // workflowSettings was read (it may still have problems)
	ds          []diag.Diagnostic
}

// InspectInput is what reading one workflow's settings needs. It is plain
// data (JSON-serialisable) so the reading can happen in a worker process.
type InspectInput struct {
	File      string        `json:"file"`                // repository-relative workflow file
	Code      []byte        `json:"code"`                // its bundle
	SourceMap []byte        `json:"sourceMap,omitempty"` // the bundle's source map
	Source    []byte        `json:"source,omitempty"`    // the file's original text, to locate settings
	Timeout   time.Duration `json:"timeout,omitempty"`   // wall time of the evaluation; 0 = SettingsTimeout
}

// Introspection is what reading a workflow's settings found; plain data,
// like InspectInput.
type Introspection struct {
	Settings    workflow.Settings `json:"settings"`              // fields are empty where invalid
	HasSettings bool              `json:"hasSettings"`           // workflowSettings was read (it may still have problems)
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty"` // located problems
}

// Inspector reads a workflow's settings by evaluating its top-level code.
// Check uses Options.Inspector, so a supervisor can run the untrusted code
// in a worker process; nil means a LocalInspector.
type Inspector interface {
	ReadSettings(ctx context.Context, in InspectInput) Introspection
}

// LocalInspector reads settings in this process, in the runtime's guarded
// sandbox. It is safe for concurrent use.
type LocalInspector struct {
	mu      sync.Mutex
	engines map[time.Duration]*wfruntime.Engine // one per timeout in use
}

// NewLocalInspector returns an in-process Inspector.
func NewLocalInspector() *LocalInspector {
	return &LocalInspector{engines: map[time.Duration]*wfruntime.Engine{}}
}

// ReadSettings evaluates in.Code and reads its settings; see readSettings.
func (l *LocalInspector) ReadSettings(ctx context.Context, in InspectInput) Introspection {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = SettingsTimeout
	}
	l.mu.Lock()
	eng := l.engines[timeout]
	if eng == nil {
		if len(l.engines) >= 8 { // a handful of timeouts at most; don't grow without bound
			clear(l.engines)
		}
		eng = newInspector(timeout)
		l.engines[timeout] = eng
	}
	l.mu.Unlock()
	res := readSettings(ctx, eng, in.File, &bundle.Output{Code: in.Code, SourceMap: in.SourceMap}, in.Source)
	return Introspection{Settings: res.settings, HasSettings: res.hasSettings, Diagnostics: res.ds}
}

// readSettings evaluates the bundle of the workflow file in a fresh goja
// sandbox with no bindings and reads its workflowSettings and default
// export. source is the workflow file's original text, used to point
// diagnostics at the line where a setting is written. It never panics and
// never runs longer than timeout.
func readSettings(ctx context.Context, eng *wfruntime.Engine, file string, out *bundle.Output, source []byte) (res introspection) {
	loc := newLocator(file, source)
	err := eng.Inspect(ctx, out.Code, func(vm *goja.Runtime, exports goja.Value) error {
		var exp *goja.Object
		if present(exports) {
			exp = exports.ToObject(vm)
		}
		return catch(func() { res.read(vm, exp, loc) })
	})
	var syntax *goja.CompilerSyntaxError
	switch {
	case err == nil:
	case errors.As(err, &syntax):
		res.ds = append(res.ds, compileError(file, out, err))
	default:
		res.ds = append(res.ds, runError(file, out, err))
	}
	return res
}

// newInspector returns the sandbox settings are read in: the runtime's
// guards and memory budget, with the settings' own time and depth limits.
func newInspector(timeout time.Duration) *wfruntime.Engine {
	return wfruntime.New(wfruntime.Options{Limits: wfruntime.Limits{WallTime: timeout, MaxCallStackSize: SettingsMaxCallStack}})
}

// catch runs f, turning a goja panic (a throwing getter) into an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// read reads workflowSettings and the default export from the exports.
func (res *introspection) read(vm *goja.Runtime, exp *goja.Object, loc *locator) {
	var ws goja.Value
	if exp != nil {
		ws = exp.Get("workflowSettings")
		res.checkDefault(exp.Get("default"), loc)
	} else {
		res.checkDefault(nil, loc)
	}
	if !present(ws) {
		res.ds = append(res.ds, loc.report(RuleMissingSettings, loc.settings(),
			"the workflow does not export workflowSettings: add `export const workflowSettings = { id: \"myWorkflow\", trigger: \"user:tokens_generation\" }`"))
		return
	}
	obj, ok := ws.(*goja.Object)
	if !ok {
		res.ds = append(res.ds, loc.report(RuleMissingSettings, loc.settings(),
			"workflowSettings is %s, not an object: export an object such as { id: \"myWorkflow\", trigger: \"user:tokens_generation\" }", describe(ws)))
		return
	}
	res.hasSettings = true
	s := &res.settings
	res.readID(obj.Get("id"), loc)
	res.readTrigger(obj, loc)
	if v := obj.Get("name"); present(v) {
		s.Name = v.String()
	}
	res.readPolicy(obj.Get("failurePolicy"), loc)
	res.readBindings(obj.Get("bindings"), loc)
}

func (res *introspection) checkDefault(v goja.Value, loc *locator) {
	if _, ok := goja.AssertFunction(v); ok {
		return
	}
	if o, ok := v.(*goja.Object); ok {
		if _, ok := goja.AssertFunction(o.Get("handle")); ok {
			return
		}
		res.ds = append(res.ds, loc.report(RuleMissingDefaultExport, loc.defaultExport(),
			"the default export is an object without a handle method: export an async function, `export default async function handler(event) {…}`"))
		return
	}
	what := "the workflow has no default export"
	if present(v) {
		what = fmt.Sprintf("the default export is %s, not a function", describe(v))
	}
	res.ds = append(res.ds, loc.report(RuleMissingDefaultExport, loc.defaultExport(),
		"%s: add `export default async function handler(event) {…}`, which runs when the trigger fires", what))
}

func (res *introspection) readID(v goja.Value, loc *locator) {
	at := loc.key("id")
	if !present(v) {
		res.ds = append(res.ds, loc.report(RuleMissingID, at,
			"workflowSettings has no id: add a unique id such as id: \"onUserTokensGenerated\""))
		return
	}
	id, ok := v.Export().(string)
	if !ok || id == "" {
		res.ds = append(res.ds, loc.report(RuleMissingID, at,
			"workflowSettings.id is %s: it must be a non-empty string such as \"onUserTokensGenerated\"", describe(v)))
		return
	}
	if !workflow.ValidID(id) {
		res.ds = append(res.ds, loc.report(RuleInvalidID, at,
			"workflow id %q is not allowed: use 1 to 128 letters, digits, '_', '-' or '.', starting with a letter or digit", id))
		return
	}
	res.settings.ID = id
}

func (res *introspection) readTrigger(obj *goja.Object, loc *locator) {
	at := loc.key("trigger")
	v := obj.Get("trigger")
	if v == nil { // no trigger key at all
		res.ds = append(res.ds, loc.report(RuleMissingTrigger, at,
			"workflowSettings has no trigger: add one such as trigger: WorkflowTrigger.UserTokenGeneration (\"user:tokens_generation\")"))
		return
	}
	if goja.IsUndefined(v) || goja.IsNull(v) {
		res.ds = append(res.ds, loc.report(RuleUnknownTrigger, at, "%s", undefinedTrigger(loc.triggerExpr(), describe(v))))
		return
	}
	t, ok := v.Export().(string)
	if !ok {
		res.ds = append(res.ds, loc.report(RuleUnknownTrigger, at,
			"workflowSettings.trigger is %s: it must be a trigger string such as \"user:tokens_generation\"", describe(v)))
		return
	}
	if !workflow.IsTrigger(t) {
		msg := fmt.Sprintf("unknown trigger %q", t)
		if s := suggest(t, workflow.Triggers, 3); s != "" {
			msg += fmt.Sprintf(": did you mean %q?", s)
		} else {
			msg += ": use one of " + quoteList(workflow.Triggers)
		}
		res.ds = append(res.ds, loc.report(RuleUnknownTrigger, at, "%s", msg))
		return
	}
	res.settings.Trigger = t
}

// undefinedTrigger explains a trigger that evaluated to undefined, which
// almost always is a misspelt WorkflowTrigger member.
func undefinedTrigger(expr, what string) string {
	member, isEnum := strings.CutPrefix(expr, "WorkflowTrigger.")
	if !isEnum {
		if expr == "" {
			expr = "the value"
		}
		return fmt.Sprintf("trigger is %s (%s): set it to a trigger string such as \"user:tokens_generation\" or a WorkflowTrigger member", what, expr)
	}
	msg := fmt.Sprintf("trigger is %s — is WorkflowTrigger.%s misspelt?", what, member)
	if s := suggest(member, workflow.Members, 2); s != "" {
		t, _ := workflow.TriggerByMember(s)
		return msg + fmt.Sprintf(" Did you mean WorkflowTrigger.%s (%q)?", s, t.Name)
	}
	return msg + " WorkflowTrigger has " + strings.Join(workflow.Members, ", ")
}

func (res *introspection) readPolicy(v goja.Value, loc *locator) {
	o, ok := v.(*goja.Object)
	if !ok {
		return
	}
	a := o.Get("action")
	if !present(a) {
		return
	}
	action, _ := a.Export().(string)
	if action != "stop" && action != "continue" {
		res.ds = append(res.ds, loc.report(RuleInvalidFailurePolicy, loc.key("failurePolicy"),
			"failurePolicy.action %s is not supported and is treated as \"stop\": use \"stop\" (fail the auth flow when the workflow fails) or \"continue\"", describe(a)))
		return
	}
	res.settings.FailurePolicy.Action = action
}

func (res *introspection) readBindings(v goja.Value, loc *locator) {
	if !present(v) {
		return
	}
	o, ok := v.(*goja.Object)
	if !ok {
		res.ds = append(res.ds, loc.report(RuleUnknownBinding, loc.key("bindings"),
			"workflowSettings.bindings is %s: it must be an object such as { \"kinde.env\": {} }", describe(v)))
		return
	}
	trigger := res.settings.Trigger
	for _, name := range o.Keys() {
		at := loc.binding(name)
		switch {
		case name == "kinde.cache":
			// Not a binding of its own: kinde.cache comes with kinde.fetch
			// or kinde.secureFetch. A warning, as the declaration is harmless.
			res.ds = append(res.ds, diag.Lenient(loc.report(RuleUnknownBinding, at,
				"\"kinde.cache\" is not declared by itself: kinde.cache exists when kinde.fetch or kinde.secureFetch is declared. "+
					"Declare \"kinde.fetch\": {} instead")))
			continue
		case !workflow.IsBinding(name):
			msg := fmt.Sprintf("unknown binding %q", name)
			if s := suggest(name, workflow.Bindings, 3); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			} else {
				msg += ": bindings are " + quoteList(workflow.Bindings)
			}
			res.ds = append(res.ds, loc.report(RuleUnknownBinding, at, "%s", msg))
			continue
		case trigger != "" && !workflow.Allowed(trigger, name):
			// A warning, as on Kinde a binding the trigger lacks is simply
			// not there: code written for Kinde (kinde.mfa declared on
			// every trigger) deploys, and kinde.X reads as undefined.
			res.ds = append(res.ds, loc.report(RuleBindingNotAllowed, at,
				"binding %q is not available to %s workflows: %s will be undefined when it runs; remove it (this trigger allows %s)",
				name, trigger, name, quoteList(workflow.AllowedBindings(trigger))))
			continue
		}
		if res.settings.Bindings == nil {
			res.settings.Bindings = map[string]workflow.BindingSettings{}
		}
		var bs workflow.BindingSettings
		if bo, ok := o.Get(name).(*goja.Object); ok {
			if r := bo.Get("resetClaims"); present(r) && r.Export() == true {
				bs.ResetClaims = true
			}
		}
		res.settings.Bindings[name] = bs
	}
}

// present reports whether a value exists and is not undefined or null.
func present(v goja.Value) bool {
	return v != nil && !goja.IsUndefined(v) && !goja.IsNull(v)
}

// describe names a value for a message: undefined, null, a number 5 …
func describe(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	switch x := v.Export().(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case int64, float64:
		return fmt.Sprintf("the number %v", x)
	}
	if _, ok := goja.AssertFunction(v); ok {
		return "a function"
	}
	return "an object"
}

// compileError locates a bundle that goja cannot parse.
func compileError(file string, out *bundle.Output, err error) diag.Diagnostic {
	d := diag.New(RuleBuildError, file, 1, 1,
		"the bundle does not parse in the workflow runtime: %v. Use syntax up to ES2020", err)
	var ce *goja.CompilerSyntaxError
	if errors.As(err, &ce) && ce.File != nil {
		p := ce.File.Position(ce.Offset)
		d.Message = fmt.Sprintf("the bundle does not parse in the workflow runtime: %s. Use syntax up to ES2020", ce.Message)
		locate(&d, out, []goja.StackFrame{}, p.Line, p.Column)
	}
	return d
}

// runError locates an exception thrown by top-level code.
func runError(file string, out *bundle.Output, err error) diag.Diagnostic {
	d := diag.New(RuleTopLevelError, file, 1, 1, "reading the workflow's settings failed: %v", err)
	var interrupted *goja.InterruptedError
	var overflow *goja.StackOverflowError
	var ex *goja.Exception
	switch {
	case errors.As(err, &interrupted):
		d.Message = fmt.Sprintf("the workflow's top-level code was stopped (%v): it runs once when settings are read, so it must not loop, wait or allocate without bound. Move work into the default export", interrupted.Unwrap())
		locate(&d, out, interrupted.Stack(), 0, 0)
	case errors.As(err, &overflow):
		d.Message = "the workflow's top-level code exceeded the call stack limit (endless recursion?): fix the recursion"
		locate(&d, out, overflow.Stack(), 0, 0)
	case errors.As(err, &ex):
		msg := strings.TrimSpace(firstLine(safeString(ex)))
		d.Message = fmt.Sprintf("the workflow's top-level code threw %s. Top-level code runs once, without bindings, when settings are read: move calls to kinde.* and other work into the default export", msg)
		locate(&d, out, ex.Stack(), 0, 0)
	}
	return d
}

// safeString renders an exception's value without running user code twice.
func safeString(ex *goja.Exception) (s string) {
	defer func() {
		if recover() != nil {
			s = "an exception"
		}
	}()
	if v := ex.Value(); v != nil {
		if o, ok := v.(*goja.Object); ok {
			// An Error: name and message, without calling a user toString.
			name, msg := o.Get("name"), o.Get("message")
			if present(msg) {
				n := "Error"
				if present(name) {
					n = name.String()
				}
				return n + ": " + msg.String()
			}
			return "an object"
		}
		return v.String()
	}
	return ex.Error()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// locate moves d to the original position of the innermost stack frame in
// the repository's own code (not node_modules), else of the innermost
// frame that maps at all, using the bundle's source map. A bundle line and
// column, when given, come before the stack. d keeps its position when
// nothing maps.
func locate(d *diag.Diagnostic, out *bundle.Output, stack []goja.StackFrame, line, col int) {
	if len(out.SourceMap) == 0 {
		return
	}
	m, err := srcmap.Parse(bundleName+".map", out.SourceMap)
	if err != nil {
		return
	}
	type lc struct{ line, col int }
	var cands []lc
	if line > 0 {
		cands = append(cands, lc{line, col})
	}
	for _, f := range stack {
		if f.SrcName() == bundleName {
			p := f.Position()
			cands = append(cands, lc{p.Line, p.Column})
		}
	}
	var best *srcmap.Position
	for _, c := range cands {
		p, ok := m.Original(c.line, c.col)
		if !ok {
			continue
		}
		if best == nil {
			best = &p
		}
		if !strings.Contains("/"+p.File, "/node_modules/") {
			best = &p
			break
		}
	}
	if best != nil {
		d.File, d.Line, d.Column = best.File, best.Line, best.Column
	}
}
