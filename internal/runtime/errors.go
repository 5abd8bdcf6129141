package runtime

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Sizes of the texts a failed Result carries. Each is cut after
// redaction, so no part of a secret survives the cut.
const (
	maxMessage     = 4096
	maxThrownValue = 1024
	maxStack       = 16 << 10
	// maxDescribe bounds the JSON built to describe a thrown object
	// (before redaction and the cut): a deep or huge value ends the
	// description, not the process.
	maxDescribe = 64 << 10
	// describeTime bounds the time spent describing a thrown value, within
	// what is left of the wall time: its getters may never return, and the
	// run has failed already.
	describeTime = time.Second
)

// jsError turns what ended a run into the Result's error: a kind, a
// message and a stack whose positions point into the original source.
// It runs while the run's limits still hold (Engine.bounded), since
// describing a thrown value may call its getters and toString.
func (e *Engine) jsError(p *Program, s *slot, err *Error, redact func(string) string) *workflow.Error {
	var (
		msg   string
		stack string
	)
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	var ex *goja.Exception
	var rj rejection
	switch {
	case errors.As(err, &ie):
		if v, ok := ie.Value().(error); ok {
			msg = v.Error()
		} else {
			msg = fmt.Sprint(ie.Value())
		}
		stack = formatFrames(p, msg, firstFrames(ie.Stack(), 10))
	case errors.As(err, &so):
		msg = fmt.Sprintf("RangeError: maximum call stack size exceeded (limit %d)", e.limits.MaxCallStackSize)
		stack = formatFrames(p, msg, firstFrames(so.Stack(), 10))
	case errors.As(err, &ex):
		msg, stack = e.valueError(p, s, ex.Value(), redact)
		if stack == "" {
			stack = formatFrames(p, msg, firstFrames(ex.Stack(), 10))
		}
	case errors.As(err, &rj):
		msg, stack = e.valueError(p, s, rj.v, redact)
	default:
		msg = errText(err)
	}
	return &workflow.Error{Kind: err.Kind, Message: cut(redact(msg), maxMessage), Stack: cut(redact(stack), maxStack)}
}

// cut shortens s to at most n bytes (on a character boundary), marking
// the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func firstFrames(f []goja.StackFrame, n int) []goja.StackFrame {
	if len(f) > n {
		return f[:n]
	}
	return f
}

// valueError describes a thrown or rejected value: an Error gives
// "Name: message" and its mapped stack; anything else its string form.
func (e *Engine) valueError(p *Program, s *slot, v goja.Value, redact func(string) string) (msg, stack string) {
	if v == nil || goja.IsUndefined(v) {
		return "uncaught undefined", ""
	}
	if goja.IsNull(v) {
		return "uncaught null", ""
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return "uncaught " + cut(redact(safeString(v)), maxThrownValue), ""
	}
	st := safeGet(obj, "stack")
	if st != nil && !goja.IsUndefined(st) {
		return safeString(obj), mapStack(p, safeString(st))
	}
	if m := safeGet(obj, "message"); m != nil && !goja.IsUndefined(m) {
		return safeString(m), ""
	}
	return "uncaught " + cut(redact(describeObject(s, obj)), maxThrownValue), ""
}

// safeGet is o.Get(k) that survives a throwing getter.
func safeGet(o *goja.Object, k string) (v goja.Value) {
	defer func() {
		if recover() != nil {
			v = nil
		}
	}()
	return o.Get(k)
}

// describeObject renders a thrown non-Error object as JSON through the
// runtime's guarded JSON.stringify (depth and size bounded), or its
// string form.
func describeObject(sl *slot, o *goja.Object) (s string) {
	defer func() {
		if recover() != nil {
			s = "[object]"
		}
	}()
	vm := sl.vm
	stringify, ok := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	if !ok {
		return safeString(o)
	}
	g := sl.guards
	if g != nil {
		saved := g.maxS
		g.maxS = maxDescribe
		defer func() { g.maxS = saved }()
	}
	r, err := stringify(goja.Undefined(), o)
	if err != nil || r == nil || goja.IsUndefined(r) {
		return safeString(o)
	}
	return r.String()
}

// safeString is v.String() that survives a throwing toString.
func safeString(v goja.Value) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "[unprintable value]"
		}
	}()
	return v.String()
}

// bundlePosRE matches goja's positions in the bundle: "bundle.js:12:34(56)".
var bundlePosRE = regexp.MustCompile(regexp.QuoteMeta(bundleName) + `:(\d+):(\d+)(?:\(\d+\))?`)

// mapStack rewrites bundle positions in a stack text into original ones
// and host functions' Go names into binding names (nativeName).
func mapStack(p *Program, st string) string {
	st = bundlePosRE.ReplaceAllStringFunc(st, func(m string) string {
		sub := bundlePosRE.FindStringSubmatch(m)
		line, _ := strconv.Atoi(sub[1])
		col, _ := strconv.Atoi(sub[2])
		return position(p, line, col)
	})
	if !strings.Contains(st, " (native)") {
		return st
	}
	lines := strings.Split(st, "\n")
	out := lines[:0]
	for _, l := range lines {
		rest, native := strings.CutSuffix(l, " (native)")
		trimmed := strings.TrimLeft(rest, " \t")
		if name, frame := strings.CutPrefix(trimmed, "at "); native && frame {
			n, keep := nativeName(name)
			if !keep {
				continue
			}
			l = rest[:len(rest)-len(trimmed)] + "at " + n + " (native)"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// goMethods are the bindings' host functions whose (Go or JS) name is
// unique to them, by the binding they are.
var goMethods = map[string]string{
	"fetch":       "kinde.fetch",
	"secureFetch": "kinde.secureFetch",
	"jwtToken":    "kinde.cache.jwtToken",
}

// nativeName is the name a native stack frame shows. goja names a host
// function by its Go name ("github.com/…/bindings.(*Invocation).fetch-fm")
// unless the function has a name property; that would show users host
// paths. The bindings name every host function, so their frames arrive
// here as JS names ("fetch"); the Go names are the fallback for any that
// does not. A known method becomes its binding name, a closure built by
// "<binding>Object" becomes kinde.<binding>, and any other Go frame is
// dropped (keep reports false). JS names pass unchanged.
func nativeName(name string) (string, bool) {
	if !strings.Contains(name, "/") && !strings.HasSuffix(name, "-fm") && !strings.Contains(name, ".(*") {
		// A native frame is never a workflow's own function, and no
		// builtin has these names: show the binding, as before the
		// bindings named their functions.
		if b, ok := goMethods[name]; ok {
			return b, true
		}
		return name, true
	}
	last := name[strings.LastIndex(name, "/")+1:]
	if m, ok := strings.CutSuffix(last, "-fm"); ok {
		if b, ok := goMethods[m[strings.LastIndex(m, ".")+1:]]; ok {
			return b, true
		}
		return "", false
	}
	// Closures: "bindings.(*Invocation).envObject.func1".
	parts := strings.Split(last, ".")
	for i := len(parts) - 1; i > 0; i-- {
		if b, ok := strings.CutSuffix(parts[i], "Object"); ok && b != "" && workflow.IsBinding("kinde."+b) {
			return "kinde." + b, true
		}
	}
	return "", false
}

// position names a wrapped-source position by its original file, line and
// column, or by the bundle's when the map does not cover it.
func position(p *Program, line, col int) string {
	line, col = bundlePos(line, col)
	if o, ok := p.smap.Original(line, col); ok {
		return fmt.Sprintf("%s:%d:%d", o.File, o.Line, o.Column)
	}
	return fmt.Sprintf("%s:%d:%d", bundleName, line, col)
}

// formatFrames renders goja frames as a JS-style stack under msg.
func formatFrames(p *Program, msg string, frames []goja.StackFrame) string {
	if len(frames) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(msg)
	for i := range frames {
		f := &frames[i]
		name := f.FuncName()
		if f.SrcName() != bundleName {
			if n, keep := nativeName(name); keep {
				b.WriteString("\n    at ")
				b.WriteString(n)
				b.WriteString(" (native)")
			}
			continue
		}
		b.WriteString("\n    at ")
		pos := f.Position()
		if name == "" {
			name = "<anonymous>"
		}
		fmt.Fprintf(&b, "%s (%s)", name, position(p, pos.Line, pos.Column))
	}
	return b.String()
}
