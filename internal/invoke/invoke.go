// Package invoke is the one way to "run this trigger's workflow on this
// event": the runtime API and the CLI (run, test, bench) both call Run, so
// they pick the same workflow, answer skipped the same way, redact the
// event's passwords the same way and return the same Result with the same
// error kinds. The workflow code itself runs in a sandbox.Runner (worker
// processes, or this process).
package invoke

import (
	"context"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Workflow is one workflow of a build: its settings and its bundle.
type Workflow struct {
	Settings  workflow.Settings
	Code      []byte // the CommonJS bundle
	SourceMap []byte // its source map, so errors point at the original source
}

// Request is one trigger call.
type Request struct {
	// Workflows are the candidates: a build's workflows, or only the live
	// ones of an environment.
	Workflows []Workflow
	// Trigger selects the workflow with that trigger. WorkflowID, when set,
	// selects by id instead; with both set, the workflow must have both
	// (a preview of one deployment called on one trigger).
	Trigger    string
	WorkflowID string

	Event         []byte // the trigger's event JSON object
	Env           map[string]bindings.EnvVar
	EncryptionKey []byte   // the workflow's active key, for kinde.secureFetch
	AllowHosts    []string // private or loopback HOST[:PORT]s kinde.fetch may reach
	// Stubs, when non-nil, answer every kinde.fetch request instead of the
	// network (flowgate test); Response.Unmatched lists the ones none did.
	Stubs      []httpstub.Stub
	WallTime   time.Duration // 0 = the runner's default
	CacheScope string        // the JWT cache's namespace: the environment
	// Record asks for the Response's Fetch: what each outbound request was
	// answered (sandbox.Request.Record), with the event's passwords and the
	// secret variables redacted from URLs and bodies.
	Record bool

	// EncryptionKeyError is why the active key could not be provided:
	// kinde.secureFetch throws it.
	EncryptionKeyError string
}

// Pick finds the workflow a request names, or nil when none does.
func Pick(ws []Workflow, trigger, id string) *Workflow {
	if trigger == "" && id == "" {
		return nil
	}
	for i := range ws {
		s := ws[i].Settings
		if (id == "" || s.ID == id) && (trigger == "" || s.Trigger == trigger) {
			return &ws[i]
		}
	}
	return nil
}

// Run answers a trigger call: skipped when no workflow matches, else the
// Result of running the workflow once in runner. It never returns a Go
// error: every failure is a failed Result whose error.kind says what
// happened (load, thrown, timeout, sandbox-crashed, …, as the runner set
// it). The event's passwords (workflow.Passwords) never appear in the
// Result: the runner redacts them from logs and errors as they are made,
// and Run removes them from every other string the workflow wrote.
func Run(ctx context.Context, runner sandbox.Runner, req Request) sandbox.Response {
	w := Pick(req.Workflows, req.Trigger, req.WorkflowID)
	if w == nil {
		return sandbox.Response{Result: workflow.Skipped(req.Trigger)}
	}
	passwords := workflow.Passwords(req.Event)
	sreq := &sandbox.Request{
		Settings:      w.Settings,
		Code:          w.Code,
		SourceMap:     w.SourceMap,
		Event:         req.Event,
		Env:           req.Env,
		EncryptionKey: req.EncryptionKey,
		AllowHosts:    req.AllowHosts,
		Redact:        passwords,
		Stubs:         req.Stubs,
		WallTime:      req.WallTime,
		CacheScope:    req.CacheScope,
		Record:        req.Record,
	}
	sreq.EncryptionKeyError = req.EncryptionKeyError
	resp := runner.Run(ctx, sreq)
	if resp.Result == nil {
		resp.Result = workflow.Failed(w.Settings, workflow.KindInternal, "the sandbox returned no Result")
	}
	resp.Result.RedactStrings(passwords)
	// The URLs of unanswered fetches are made outside the run's redaction:
	// redact every spelling of the passwords and the secret variables.
	cfg := &bindings.Config{Env: req.Env, Redact: passwords}
	for i, u := range resp.Unmatched {
		resp.Unmatched[i] = redactLine(bindings.RedactText(cfg, u), passwords)
	}
	for i := range resp.Fetch {
		f := &resp.Fetch[i]
		f.URL = redactLine(bindings.RedactText(cfg, f.URL), passwords)
		f.Body = redactLine(bindings.RedactText(cfg, f.Body), passwords)
		for k, v := range f.Headers {
			f.Headers[k] = redactLine(bindings.RedactText(cfg, v), passwords)
		}
	}
	return resp
}

// redactLine removes passwords from one line of text (a URL no stub
// answered may carry one in its query).
func redactLine(s string, passwords []string) string {
	r := workflow.Result{Logs: []workflow.Log{{Message: s}}}
	r.RedactStrings(passwords)
	return r.Logs[0].Message
}
