package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

const runUsage = `Usage: flowgate run (--trigger T | --workflow ID) --event FILE [flags] [DIR]

Checks the workflow repository in DIR (default ".") like "flowgate validate",
runs the workflow for trigger T (or with id ID) once on the event in FILE, in
the same sandbox the server uses, and prints the Result JSON on stdout.

Flags:
  --trigger T            run the workflow whose trigger is T (user:tokens_generation, …)
  --workflow ID          run the workflow whose workflowSettings.id is ID
  --event FILE           the event JSON ({"request": …, "context": …}); required
  --env FILE             environment variables, {"NAME": {"value": "…", "isSecret": true}}
  --encryption-key B64   the workflow's active encryption key (Base64 of 32 bytes), for kinde.secureFetch
  --allow-host HOST[:PORT]  a private or loopback host kinde.fetch may reach (repeatable);
                         public hosts are always reachable
  --timeout D            wall-time limit of the run, e.g. 2s or 500ms (default 5s)
  --isolation MODE       process (default): run workflow code in a supervised worker
                         process, as the server does, so a crash fails the run and
                         nothing else; inprocess: in this process

The password fields of the event (context.auth.password, firstPassword, …)
and secret variables are redacted from logs and errors. When no workflow
has trigger T, the Result is {"status": "skipped"}, as the server answers.
Problems in the chosen workflow are printed on stderr and nothing runs.

A failed Result says what ended the run in error.kind (thrown, timeout,
memory, load, sandbox-crashed, …; see docs/error-kinds.md).

Exit status: 0 succeeded or skipped (a denial is a success), 1 the workflow
failed or is invalid, 2 could not run (bad usage, unreadable files).
`

// invokeFlags are the flags run and bench share.
type invokeFlags struct {
	trigger, id, event, env, key, timeout string
	allow                                 listFlag
	isolation                             *string
}

func (f *invokeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.trigger, "trigger", "", "")
	fs.StringVar(&f.id, "workflow", "", "")
	fs.StringVar(&f.event, "event", "", "")
	fs.StringVar(&f.env, "env", "", "")
	fs.StringVar(&f.key, "encryption-key", "", "")
	fs.StringVar(&f.timeout, "timeout", "", "")
	fs.Var(&f.allow, "allow-host", "")
	f.isolation = isolationFlag(fs)
}

// invokeInput is what the flags name, read and checked.
type invokeInput struct {
	event   []byte
	env     map[string]bindings.EnvVar
	key     []byte
	allow   []string
	timeout time.Duration
}

// request is the invoke request for the chosen workflow (nil: none).
func (in *invokeInput) request(f *invokeFlags, w *project.Workflow) invoke.Request {
	return invoke.Request{
		Workflows: asInvokeWorkflows(w), Trigger: f.trigger, WorkflowID: f.id,
		Event: in.event, Env: in.env, EncryptionKey: in.key, AllowHosts: in.allow, WallTime: in.timeout,
	}
}

// load checks the flags and reads the files they name. On failure it
// prints why and returns false (exit 2).
func (f *invokeFlags) load(name string, stderr io.Writer) (*invokeInput, bool) {
	fail := func(format string, a ...any) (*invokeInput, bool) {
		fmt.Fprintf(stderr, "flowgate %s: %s\nRun \"flowgate %s --help\" for usage.\n", name, fmt.Sprintf(format, a...), name)
		return nil, false
	}
	switch {
	case f.trigger == "" && f.id == "":
		return fail("choose the workflow with --trigger T or --workflow ID")
	case f.trigger != "" && f.id != "":
		return fail("give --trigger or --workflow, not both")
	case f.trigger != "" && !workflow.IsTrigger(f.trigger):
		return fail("unknown trigger %q: use one of %s", f.trigger, strings.Join(workflow.Triggers, ", "))
	case f.event == "":
		return fail("--event FILE is required: the event JSON the trigger receives")
	case *f.isolation != isolationProcess && *f.isolation != isolationInProcess:
		return fail("unknown --isolation %q: use process or inprocess", *f.isolation)
	}
	in := &invokeInput{}
	for _, h := range f.allow {
		if err := checkHost(h); err != nil {
			return fail("--allow-host %q: %v", h, err)
		}
		in.allow = append(in.allow, h)
	}
	if f.timeout != "" {
		d, err := time.ParseDuration(f.timeout)
		if err != nil || d <= 0 {
			return fail("--timeout %q is not a positive duration: use a number with a unit, such as 2s or 500ms", f.timeout)
		}
		in.timeout = d
	}
	if f.key != "" {
		key, err := invoke.DecodeKey(f.key)
		if err != nil {
			return fail("--encryption-key: %v", err)
		}
		in.key = key
	}
	var err error
	if in.event, err = readEvent(f.event); err != nil {
		return fail("%v", err)
	}
	if f.env != "" {
		if in.env, err = readEnvFile(f.env); err != nil {
			return fail("%v", err)
		}
	}
	return in, true
}

// checkHost accepts HOST or HOST:PORT, as NetPolicy.AllowHosts takes them.
func checkHost(h string) error {
	if strings.Contains(h, "://") || strings.ContainsAny(h, "/?#@ ") {
		return fmt.Errorf("give a host or host:port, such as 127.0.0.1:8080, not a URL")
	}
	host := h
	if strings.Contains(h, ":") && !strings.HasSuffix(h, "]") {
		hh, port, err := net.SplitHostPort(h)
		if err != nil || port == "" {
			return fmt.Errorf("give a host or host:port, such as 127.0.0.1:8080")
		}
		host = hh
	}
	if strings.Trim(host, "[]") == "" {
		return fmt.Errorf("the host is empty")
	}
	return nil
}

// choose checks the repository and picks the workflow the flags name.
// w is nil with ok true when no workflow has the trigger (skipped).
// With ok false the caller exits with code.
func (f *invokeFlags) choose(name, dir string, runner sandbox.Runner, stderr io.Writer) (w *project.Workflow, code int, ok bool) {
	r, err := checkRepo(dir, *f.isolation, runner, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate %s: %v\n", name, err)
		return nil, exitUsage, false
	}
	w = r.Pick(f.trigger, f.id)
	if w == nil {
		if !r.OK() {
			// A workflow whose settings could not be read may be the one asked for.
			diag.WriteText(stderr, fromCwd(dir, r.Diagnostics))
			fmt.Fprintf(stderr, "flowgate %s: the repository has errors, so the workflow to run cannot be chosen; fix them first\n", name)
			return nil, exitProblems, false
		}
		if f.id != "" {
			fmt.Fprintf(stderr, "flowgate %s: no workflow has id %q (the workflows are: %s)\n", name, f.id, r.IDList())
			return nil, exitUsage, false
		}
		return nil, exitOK, true
	}
	diag.WriteText(stderr, fromCwd(dir, w.Diagnostics))
	if !w.Valid() {
		fmt.Fprintf(stderr, "flowgate %s: workflow %s has errors; nothing was run\n", name, filepath.Join(dir, filepath.FromSlash(w.File)))
		return nil, exitProblems, false
	}
	return w, exitOK, true
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f invokeFlags
	f.register(fs)
	dir, code, ok := parseArgs(fs, "run", runUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	in, ok := f.load("run", stderr)
	if !ok {
		return exitUsage
	}
	runner, err := newRunner(*f.isolation, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate run: %v\n", err)
		return exitUsage
	}
	defer runner.Close()
	w, code, ok := f.choose("run", dir, runner, stderr)
	if !ok {
		return code
	}
	res := invoke.Run(context.Background(), runner, in.request(&f, w)).Result
	if err := writeJSON(stdout, res); err != nil {
		fmt.Fprintf(stderr, "flowgate run: %v\n", err)
		return exitUsage
	}
	if res.Status == workflow.StatusFailed {
		return exitProblems
	}
	return exitOK
}
