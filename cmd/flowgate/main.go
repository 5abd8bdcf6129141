// Command flowgate is the Flowgate CLI: it validates, builds, runs, tests
// and benchmarks a repository of Kinde-compatible workflows. The companion
// GitHub Action runs it too, so pull requests get the same validation.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/flowgate/flowgate/internal/builder"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/version"
)

// command is one subcommand; it returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// Exit codes shared by every subcommand (docs/architecture.md).
const (
	exitOK       = 0 // valid / succeeded
	exitProblems = 1 // diagnostics with errors, or a failed run
	exitUsage    = 2 // bad usage or could not run
)

func commands() map[string]command {
	cmds := map[string]command{
		"validate": {"check a workflow repository against the sync rules", runValidate},
		"build":    {"bundle every workflow and write a manifest", runBuild},
		"run":      {"run one workflow against an event and print the Result", runRun},
		"test":     {"run the workflow tests kept beside the workflows", runTest},
		"bench":    {"measure the per-invocation cost of a workflow", runBench},
		"event":    {"print a sample event for a trigger", runEvent},
	}
	for name, c := range manageCommands() {
		cmds[name] = c
	}
	return cmds
}

const usageText = `flowgate: validate, build, run, test and benchmark Kinde-compatible workflows.

Usage:
  flowgate <command> [flags] [DIR]

Commands:
  validate   check a workflow repository against the sync rules
  build      bundle every workflow and write a manifest
  run        run one workflow against an event and print the Result
  test       run the workflow tests kept beside the workflows
  bench      measure the per-invocation cost of a workflow
  event      print a sample event for a trigger

Managing a running service (--server, --token; docs/cli.md):
  deployments  list workflows, or a workflow's deployments
  make-live    make a deployment live
  rollback     roll a workflow back to its previous live deployment
  deactivate   take a workflow's live deployment off its trigger
  vars         list, set or delete an environment's variables
  keys         list, create, activate or delete a workflow's encryption keys
  logs         print (or --follow) runtime, sync and build logs
  preview      get preview credentials for a deployment
  sync         list syncs, or show one with its diagnostics

Flags come before DIR, which defaults to ".".
"flowgate --version" prints the version and commit.
Run "flowgate <command> --help" for a command's flags.
`

// gcPercent is the garbage collector's target when the GOGC environment
// variable is not set. Workflow runs allocate ~40 KiB each over a live
// heap of a few MB, so at Go's default (100) a collection starts every
// ~50 runs and takes ~20% of the CPU; at 400 the heap may grow to five
// times the live heap between collections (BENCHMARKS.md, "## Runtime").
// GOGC and GOMEMLIMIT still apply when set.
const gcPercent = 400

func main() {
	// A worker process of the sandbox, and a builder process, are this
	// executable re-run: each serves its caller and exits here, before any
	// CLI work.
	sandbox.MaybeWorker()
	builder.MaybeBuilder()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the CLI with args (without the program name) and returns the exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, version.Read().String("flowgate"))
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "flowgate: unknown command %q\n\n%s", args[0], usageText)
		return exitUsage
	}
	return cmd.run(args[1:], stdout, stderr)
}
