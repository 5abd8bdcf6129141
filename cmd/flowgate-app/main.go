// Command flowgate-app is the Flowgate service: the runtime API auth servers call,
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
	"github.com/flowgate/flowgate/internal/builder"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/version"
)

// gcPercent is the GC target when GOGC is not set: as for the CLI, a
// trigger call allocates a few tens of KiB over a small live heap, and at
// Go's default (100) collection takes a large share of the CPU.
const gcPercent = 400

func main() {
	sandbox.MaybeWorker()  // a sandbox worker process serves its supervisor and exits here
	builder.MaybeBuilder() // so does a builder process (internal/builder)
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
	logFormat := fs.String("log-format", "text", "text or json")
	showVersion := fs.Bool("version", false, "print the version and commit, then exit")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Println(version.Read().String("flowgate-app"))
		return 0
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
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	switch *logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(os.Stderr, hopts))
	case "json":
		log = slog.New(slog.NewJSONHandler(os.Stderr, hopts))
	default:
		fmt.Fprintf(os.Stderr, "flowgate: --log-format %q: use text or json\n", *logFormat)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, log, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flowgate:", err)
		return 1
	}
	// The first signal starts the drain (ctx); a second one ends it.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		<-sigs
		a.StopNow()
	}()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "flowgate:", err)
		return 1
	}
	return 0
}

// usage lists the flags and every FLOWGATE_* setting (flags override them).
func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "flowgate-app: the Flowgate service (runtime API, management API, web console at /, GitHub App).\n\n")
	fmt.Fprintf(w, "Usage:\n  flowgate-app [flags]\n\nFlags:\n")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nSettings (environment variables; a flag, when given, wins):\n")
	app.PrintSettings(w)
}
