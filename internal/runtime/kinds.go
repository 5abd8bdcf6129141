package runtime

import (
	"errors"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Error is what ended a run, with its kind (workflow.Kind…), so callers —
// the Result, the API, metrics, the failure policy — never match message
// text. Err is the cause: a goja error (*goja.Exception,
// *goja.InterruptedError, *goja.StackOverflowError,
// *goja.CompilerSyntaxError), a *LoadError, or one of the runtime's own.
type Error struct {
	Kind workflow.ErrorKind
	Err  error
	// text is Err's text rendered while the run was still bounded
	// (rendering a thrown value may run its toString); empty means Err's.
	text string
}

func (e *Error) Error() string {
	if e.text != "" {
		return e.text
	}
	return e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// KindOf classifies err: the kind of the first *Error in its chain, else
// the kind its goja or runtime type implies; "" for nil.
func KindOf(err error) workflow.ErrorKind {
	if err == nil {
		return ""
	}
	var re *Error
	if errors.As(err, &re) {
		return re.Kind
	}
	var (
		le *LoadError
		se *goja.CompilerSyntaxError
		ie *goja.InterruptedError
		so *goja.StackOverflowError
		ex *goja.Exception
		rj rejection
	)
	switch {
	case errors.As(err, &le), errors.As(err, &se):
		return workflow.KindLoad
	case errors.As(err, &ie):
		if v, ok := ie.Value().(error); ok {
			return KindOf(v)
		}
		return workflow.KindInternal
	case errors.As(err, &so):
		return workflow.KindCallDepth
	case errors.As(err, &ex), errors.As(err, &rj):
		return workflow.KindThrown
	case errors.Is(err, errNeverSettled):
		return workflow.KindNeverSettled
	case errors.Is(err, errCancelled):
		return workflow.KindTimeout
	case errors.As(err, new(errDeadline)):
		return workflow.KindTimeout
	case errors.As(err, new(errMemory)):
		return workflow.KindMemory
	case errors.As(err, new(errResultTooLarge)):
		return workflow.KindResultTooLarge
	case errors.As(err, new(errNoEntry)):
		return workflow.KindLoad
	}
	return workflow.KindInternal
}

// errResultTooLarge fails a run whose claims and logs are over
// Limits.MaxResultBytes.
type errResultTooLarge struct{ msg string }

func (e errResultTooLarge) Error() string { return e.msg }

// errNoEntry is a bundle without a usable default export.
type errNoEntry struct{ msg string }

func (e errNoEntry) Error() string { return e.msg }
