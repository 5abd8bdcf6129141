package runtime

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// jsError turns what ended a run into the Result's error: a message and a
// stack whose positions point into the original source.
func (e *Engine) jsError(p *Program, vm *goja.Runtime, err error, redact func(string) string) *workflow.Error {
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
		stack = formatFrames(p, msg, ie.Stack())
	case errors.As(err, &so):
		msg = fmt.Sprintf("RangeError: maximum call stack size exceeded (limit %d)", e.limits.MaxCallStackSize)
		stack = formatFrames(p, msg, firstFrames(so.Stack(), 10))
	case errors.As(err, &ex):
		msg, stack = valueError(p, ex.Value())
		if stack == "" {
			stack = formatFrames(p, msg, ex.Stack())
		}
	case errors.As(err, &rj):
		msg, stack = valueError(p, rj.v)
	default:
		msg = err.Error()
	}
	return &workflow.Error{Message: redact(msg), Stack: redact(stack)}
}

func firstFrames(f []goja.StackFrame, n int) []goja.StackFrame {
	if len(f) > n {
		return f[:n]
	}
	return f
}

// valueError describes a thrown or rejected value: an Error gives
// "Name: message" and its mapped stack; anything else its string form.
func valueError(p *Program, v goja.Value) (msg, stack string) {
	if v == nil || goja.IsUndefined(v) {
		return "uncaught undefined", ""
	}
	if goja.IsNull(v) {
		return "uncaught null", ""
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return "uncaught " + describe(v), ""
	}
	st := obj.Get("stack")
	if st != nil && !goja.IsUndefined(st) {
		m := safeString(obj)
		return m, mapStack(p, safeString(st))
	}
	if m := obj.Get("message"); m != nil && !goja.IsUndefined(m) {
		return safeString(m), ""
	}
	return "uncaught " + describe(v), ""
}

// describe renders a thrown non-Error value: strings as themselves,
// objects as JSON when possible.
func describe(v goja.Value) string {
	if s, ok := v.Export().(string); ok {
		return s
	}
	if _, ok := v.(*goja.Object); ok {
		if b, err := jsonOf(v); err == nil {
			return b
		}
	}
	return safeString(v)
}

func jsonOf(v goja.Value) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	b, err := v.(*goja.Object).MarshalJSON()
	if err != nil {
		return "", err
	}
	if len(b) > 1024 {
		b = append(b[:1024], "…"...)
	}
	return string(b), nil
}

// safeString is v.String() that survives a throwing toString.
func safeString(v goja.Value) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "[unprintable value]"
		}
	}()
	s = v.String()
	if len(s) > 4096 {
		s = s[:4096] + "…"
	}
	return s
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
