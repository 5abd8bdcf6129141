// Command app is the Flowgate service: the runtime API auth servers call,
// the management API, the GitHub App (webhooks, check runs, slash
// commands) and the sync worker, on embedded defaults (SQLite and a local
// artifact directory under ./flowgate-data) unless configured otherwise
// with FLOWGATE_* variables or flags (docs/configuration.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/sandbox"
)

// gcPercent is the GC target when GOGC is not set: as for the CLI, a
// trigger call allocates a few tens of KiB over a small live heap, and at
// Go's default (100) collection takes a large share of the CPU.
const gcPercent = 400

func main() {
	sandbox.MaybeWorker() // a sandbox worker process serves its supervisor and exits here
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 {
		if tool, ok := tools[args[0]]; ok {
			return tool(args[1:], os.Stdout, os.Stderr)
		}
	}
	cfg, err := app.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flowgate:", err)
		return 2
	}
	fs := flag.NewFlagSet("flowgate-app", flag.ContinueOnError)
	cfg.Flags(fs)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "flowgate: unexpected argument %q (configuration is by flags and FLOWGATE_* variables)\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "flowgate: --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, log, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flowgate:", err)
		return 1
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "flowgate:", err)
		return 1
	}
	return 0
}
