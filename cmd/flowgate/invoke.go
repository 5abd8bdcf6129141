package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/builder"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
)

// What run, test, bench, validate and build share: reading events, env
// files and keys, and the sandbox the workflow code runs in.

// listFlag is a repeatable string flag (--allow-host).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Isolation modes (--isolation): where workflow code runs.
const (
	isolationProcess   = "process"   // supervised worker processes, as the app runs it (default)
	isolationInProcess = "inprocess" // in the CLI's own process: faster to start, no crash containment
)

// isolationFlag registers --isolation on fs.
func isolationFlag(fs *flag.FlagSet) *string {
	return fs.String("isolation", isolationProcess, "")
}

// newRunner starts the sandbox for an --isolation mode. Worker processes are
// this executable re-run (main calls sandbox.MaybeWorker first). What the
// supervisor logs goes to stderr only when it is a warning or worse, so a
// crashed worker's own output never reaches the user as a Go dump.
func newRunner(mode string, stderr io.Writer) (sandbox.Runner, error) {
	switch mode {
	case isolationInProcess:
		return sandbox.NewInProcess(sandbox.Options{}), nil
	case isolationProcess:
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s, err := sandbox.NewSupervisor(sandbox.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("start the sandbox workers: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown --isolation %q: use process or inprocess", mode)
}

// checkRepo runs the sync checks on dir. With --isolation process they
// run in a builder process, which parses the repository and evaluates the
// workflows' top-level code itself, so a repository that crashes a parser
// is a located build-crashed diagnostic, not a dead CLI; inprocess checks
// in this process with workflow code evaluated in runner.
func checkRepo(dir, mode string, runner sandbox.Runner, stderr io.Writer) (*project.Report, error) {
	if mode == isolationProcess {
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		b, err := builder.New(builder.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		return b.Check(context.Background(), dir, project.Options{})
	}
	return project.Check(context.Background(), dir, project.Options{Inspector: runner})
}

// readEvent reads an event file and checks it is one JSON object.
func readEvent(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if err := invoke.CheckEvent(data); err != nil {
		return nil, fmt.Errorf("event %s:%v", name, err)
	}
	return data, nil
}

// readEnvFile reads an --env file.
func readEnvFile(name string) (map[string]bindings.EnvVar, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	env, err := invoke.ParseEnv(data)
	if err != nil {
		return nil, fmt.Errorf("env file %s:%v", name, err)
	}
	return env, nil
}

// asInvokeWorkflows turns a checked workflow into invoke's candidates;
// nil (none) when w is nil.
func asInvokeWorkflows(w *project.Workflow) []invoke.Workflow {
	if w == nil {
		return nil
	}
	return []invoke.Workflow{{Settings: w.Settings, Code: w.Bundle.Code, SourceMap: w.Bundle.SourceMap}}
}

// writeJSON prints v indented, without HTML escaping (claims may hold <, &).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
