package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"path/filepath"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
)

const validateUsage = `Usage: flowgate validate [--format text|json|github] [--isolation process|inprocess] [DIR]

Checks the workflow repository in DIR (default ".") against the sync rules:
kinde.json, workflow discovery, bundling, workflowSettings, triggers and
bindings. It bundles every workflow, exactly as a sync does.

Flags:
  --format text     one line per problem, path:line:col: error: message [rule] (default)
  --format github   GitHub Actions workflow commands (annotations on the lines)
  --format json     {"workflows": [...], "diagnostics": [...]}
  --isolation MODE  where the workflows' top-level code is evaluated to read
                    their settings: process (default, supervised worker
                    processes; a crash is a located diagnostic) or inprocess

In the text and github formats, paths are given from the current directory
(DIR/...); in json they are relative to DIR. The text and github formats
print a one-line summary on stderr.

Exit status: 0 valid (warnings allowed), 1 problems found, 2 could not run.
`

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "")
	isolation := isolationFlag(fs)
	dir, code, ok := parseArgs(fs, "validate", validateUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" && *format != "github" {
		fmt.Fprintf(stderr, "flowgate validate: unknown --format %q: use text, json or github\n", *format)
		return exitUsage
	}
	runner, err := newRunner(*isolation, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate validate: %v\n", err)
		return exitUsage
	}
	defer runner.Close()
	r, err := checkRepo(dir, *isolation, runner, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate validate: %v\n", err)
		return exitUsage
	}
	switch *format {
	case "json":
		err = diag.WriteJSON(stdout, r.JSON())
	case "github":
		err = diag.WriteGitHub(stdout, fromCwd(dir, r.Diagnostics))
	default:
		err = diag.WriteText(stdout, fromCwd(dir, r.Diagnostics))
	}
	if err != nil {
		fmt.Fprintf(stderr, "flowgate validate: %v\n", err)
		return exitUsage
	}
	if *format != "json" {
		fmt.Fprintln(stderr, summary(r))
	}
	if !r.OK() {
		return exitProblems
	}
	return exitOK
}

// parseArgs parses flags and the optional DIR. ok is false when the command
// should exit with code: 0 after --help (usage on stdout), 2 on bad usage.
func parseArgs(fs *flag.FlagSet, name, usage string, args []string, stdout, stderr io.Writer) (dir string, code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return "", exitOK, false
		}
		fmt.Fprintf(stderr, "flowgate %s: %v\nRun \"flowgate %s --help\" for usage.\n", name, err, name)
		return "", exitUsage, false
	}
	switch fs.NArg() {
	case 0:
		return ".", 0, true
	case 1:
		return fs.Arg(0), 0, true
	}
	fmt.Fprintf(stderr, "flowgate %s: too many arguments %q: give one directory, after the flags\nRun \"flowgate %s --help\" for usage.\n", name, fs.Args(), name)
	return "", exitUsage, false
}

// fromCwd rewrites repository-relative paths as paths from the current
// directory, so editors and GitHub find the files when DIR is not ".".
func fromCwd(dir string, ds []diag.Diagnostic) []diag.Diagnostic {
	prefix := filepath.ToSlash(filepath.Clean(dir))
	if prefix == "." {
		return ds
	}
	out := make([]diag.Diagnostic, len(ds))
	for i, d := range ds {
		if d.File != "" {
			d.File = path.Join(prefix, d.File)
		}
		out[i] = d
	}
	return out
}

// summary is the one line printed on stderr after the diagnostics.
func summary(r *project.Report) string {
	errs, warns := diag.Count(r.Diagnostics)
	n := len(r.Workflows)
	checked := fmt.Sprintf("%d %s checked", n, plural(n, "workflow", "workflows"))
	if errs == 0 && warns == 0 {
		return fmt.Sprintf("flowgate: %s, no problems", checked)
	}
	return fmt.Sprintf("flowgate: %s, %d %s, %d %s", checked, errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
