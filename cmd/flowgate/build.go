package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/diag"
)

const buildUsage = `Usage: flowgate build [--out DIR] [--isolation process|inprocess] [DIR]

Validates the workflow repository in DIR (default ".") like "flowgate validate"
and, when it has no errors, writes one CommonJS bundle per workflow with its
source map, and a manifest:

  <out>/<id>.js, <out>/<id>.js.map
  <out>/manifest.json  {"workflows": [{"id", "name", "trigger", "bindings",
                         "bundle", "sourceMap", "sha256"}]}

"bundle" and "sourceMap" are relative to the output folder; "sha256" is the
hex SHA-256 of the bundle. With errors, the problems are printed on stderr
(text format) and nothing is written.

Flags:
  --out DIR          output folder, created if needed (default "dist", relative
                     to the current directory)
  --isolation MODE   where the workflows' top-level code is evaluated to read
                     their settings: process (default, supervised worker
                     processes; a crash is a diagnostic) or inprocess

Exit status: 0 built, 1 problems found, 2 could not run.
`

func runBuild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "dist", "")
	isolation := isolationFlag(fs)
	dir, code, ok := parseArgs(fs, "build", buildUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "flowgate build: --out must name a folder")
		return exitUsage
	}
	runner, err := newRunner(*isolation, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate build: %v\n", err)
		return exitUsage
	}
	defer runner.Close()
	r, err := checkRepo(dir, *isolation, runner, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate build: %v\n", err)
		return exitUsage
	}
	if err := diag.WriteText(stderr, fromCwd(dir, r.Diagnostics)); err != nil {
		return exitUsage
	}
	if !r.OK() {
		fmt.Fprintf(stderr, "%s; nothing written\n", summary(r))
		return exitProblems
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "flowgate build: create output folder: %v\n", err)
		return exitUsage
	}
	m := bundle.Manifest{Workflows: []bundle.ManifestEntry{}}
	for _, w := range r.Workflows {
		e := bundle.NewEntry(w.Settings.ID, w.Settings.Name, w.Settings.Trigger, w.BindingNames(), w.Bundle)
		if err := bundle.WriteBundle(*out, e, w.Bundle); err != nil {
			fmt.Fprintf(stderr, "flowgate build: %v\n", err)
			return exitUsage
		}
		m.Workflows = append(m.Workflows, e)
	}
	// The manifest last: a reader that finds it finds every bundle it lists.
	if err := m.Write(*out); err != nil {
		fmt.Fprintf(stderr, "flowgate build: %v\n", err)
		return exitUsage
	}
	n := len(m.Workflows)
	fmt.Fprintf(stdout, "wrote %d %s and %s\n", n, plural(n, "bundle", "bundles"), filepath.Join(*out, bundle.ManifestName))
	return exitOK
}
