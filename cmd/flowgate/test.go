package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/wftest"
)

const testUsage = `Usage: flowgate test [--run REGEXP] [--isolation process|inprocess] [DIR]
       flowgate test --replay RECORDINGS --against BASELINE [flags] [DIR]

Runs the workflow tests of the repository in DIR (default "."): every
*.test.json file under the workflows' root folder (kinde.json "rootDir",
usually kindeSrc/). Each file names a workflow and lists cases: an event,
environment variables, stubbed HTTP responses for kinde.fetch, and the part
of the Result the run must produce. The format is in docs/testing-workflows.md.

Each case runs in the same sandbox "flowgate run" uses; nothing reaches the
network (a request no stub answers fails the case). One line per case, ok
or FAIL with the differences, then "N passed, N failed".

Flags:
  --run REGEXP       run only the cases whose "file: name" matches REGEXP
  --isolation MODE   process (default): cases run in supervised worker
                     processes, so a case that crashes its worker fails alone;
                     inprocess: in this process

Exit status: 0 all passed, 1 a case failed (or the repository cannot be
read), 2 bad usage or a malformed test file (with its line and column).

Behaviour diff (--replay): replays the recorded trigger calls in the folder
RECORDINGS (*.json files, one call each, and *.jsonl files, one per line: the
recording export) against DIR's build (the candidate) and BASELINE, each
call's outbound requests answered only from its recording, and prints what
the candidate changes: claims, denials, form errors, MFA, plan decisions,
status and failures by error kind (docs/behaviour-diff.md).

  --replay DIR       the recorded calls
  --against B        the baseline: a "flowgate build" output folder, its
                     manifest.json or one of its bundles; or, on --server,
                     "live" (every live deployment) or deployment ids (dep_…,dep_…);
                     with --server it always names deployments
  --server URL, --token TOKEN   the service, as the management commands take them
  --environment NAME the server's environment (default production)
  --env FILE         variables both builds see, as "flowgate run --env"
  --format F         text (default), markdown (the check run's) or json
  --max-diffs N      diffs shown per workflow (default 20)

Exit status with --replay: 0 no behaviour change, 1 behaviour changed (or the
repository has errors), 2 bad usage or could not run.
`

func runTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runPattern := fs.String("run", "", "")
	isolation := isolationFlag(fs)
	var rf replayFlags
	fs.StringVar(&rf.dir, "replay", "", "")
	fs.StringVar(&rf.against, "against", "", "")
	fs.StringVar(&rf.server, "server", "", "")
	fs.StringVar(&rf.token, "token", "", "")
	fs.StringVar(&rf.environment, "environment", "production", "")
	fs.StringVar(&rf.env, "env", "", "")
	fs.StringVar(&rf.format, "format", "text", "")
	fs.IntVar(&rf.maxDiffs, "max-diffs", replay.DefaultMaxDiffs, "")
	dir, code, ok := parseArgs(fs, "test", testUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	replayOnly := map[string]bool{"against": true, "server": true, "token": true, "environment": true, "env": true, "format": true, "max-diffs": true}
	misplaced := ""
	fs.Visit(func(f *flag.Flag) {
		if (rf.dir == "" && replayOnly[f.Name]) || (rf.dir != "" && f.Name == "run") {
			misplaced = f.Name
		}
	})
	if misplaced != "" {
		why := "only goes with --replay"
		if misplaced == "run" {
			why = "selects test cases; it does not go with --replay"
		}
		fmt.Fprintf(stderr, "flowgate test: --%s %s\nRun \"flowgate test --help\" for usage.\n", misplaced, why)
		return exitUsage
	}
	if rf.dir != "" {
		return runReplay(&rf, replayOptions{repo: dir, isolation: *isolation, stdout: stdout, stderr: stderr})
	}
	filter, err := regexp.Compile(*runPattern)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: --run: %v\n", err)
		return exitUsage
	}
	runner, err := newRunner(*isolation, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: %v\n", err)
		return exitUsage
	}
	defer runner.Close()
	r, err := checkRepo(dir, *isolation, runner, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: %v\n", err)
		return exitUsage
	}
	if r.Config == nil {
		diag.WriteText(stderr, fromCwd(dir, r.Diagnostics))
		fmt.Fprintln(stderr, "flowgate test: kinde.json must be fixed before the tests can be found")
		return exitProblems
	}
	names, err := wftest.Find(r.Root, r.Config.RootDir)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: %v\n", err)
		return exitUsage
	}
	// Test files and the event files they name are read through os.Root:
	// no path or link in a (pull request's) repository leads outside it.
	repo, err := os.OpenRoot(r.Root)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: %v\n", err)
		return exitUsage
	}
	defer repo.Close()
	var files []*wftest.File
	bad := false
	for _, rel := range names {
		tf, err := wftest.Load(repo.FS(), filepath.ToSlash(rel), filepath.Join(dir, rel))
		if err != nil {
			fmt.Fprintln(stderr, err)
			bad = true
			continue
		}
		files = append(files, tf)
	}
	if bad {
		fmt.Fprintln(stderr, "flowgate test: malformed test files; nothing was run")
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "flowgate test: no test files (*%s) under %s\n", wftest.Suffix, filepath.Join(dir, r.Config.RootDir))
	}
	diag.WriteText(stderr, fromCwd(dir, r.Diagnostics))

	ctx := context.Background()
	passed, failed := 0, 0
	for _, tf := range files {
		w, problem := wftest.Target(r, tf)
		if w == nil {
			// Name the errors that kept a workflow's settings from being read:
			// "no workflow has trigger" alone hides a syntax error.
			for _, d := range fromCwd(dir, wftest.Unreadable(r)) {
				problem += "\n" + d.String()
			}
		}
		for _, tc := range tf.Cases {
			label := tf.Path + ": " + tc.Name
			if !filter.MatchString(label) {
				continue
			}
			var lines []string
			if problem != "" {
				lines = []string{problem}
			} else {
				lines = wftest.RunCase(ctx, runner, w, tc)
			}
			if len(lines) == 0 {
				passed++
				fmt.Fprintf(stdout, "ok    %s\n", label)
				continue
			}
			failed++
			fmt.Fprintf(stdout, "FAIL  %s\n", label)
			for _, l := range lines {
				fmt.Fprintf(stdout, "      %s\n", strings.ReplaceAll(l, "\n", "\n      "))
			}
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitProblems
	}
	return exitOK
}
