package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
)

const buildUsage = `Usage: flowgate build [--out DIR] [DIR]

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
  --out DIR   output folder, created if needed (default "dist", relative to
              the current directory)

Exit status: 0 built, 1 problems found, 2 could not run.
`

// manifest is build's manifest.json.
type manifest struct {
	Workflows []manifestEntry `json:"workflows"`
}

type manifestEntry struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Trigger   string   `json:"trigger"`
	Bindings  []string `json:"bindings"`
	Bundle    string   `json:"bundle"`
	SourceMap string   `json:"sourceMap"`
	SHA256    string   `json:"sha256"`
}

func runBuild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "dist", "")
	dir, code, ok := parseArgs(fs, "build", buildUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "flowgate build: --out must name a folder")
		return exitUsage
	}
	r, err := project.Check(context.Background(), dir, project.Options{})
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
	m := manifest{Workflows: []manifestEntry{}}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "flowgate build: create output folder: %v\n", err)
		return exitUsage
	}
	for _, w := range r.Workflows {
		e := manifestEntry{
			ID: w.Settings.ID, Name: w.Settings.Name, Trigger: w.Settings.Trigger, Bindings: w.BindingNames(),
			Bundle: w.Settings.ID + ".js", SourceMap: w.Settings.ID + ".js.map", SHA256: w.Bundle.SHA256,
		}
		// Ids are checked to be plain names (rule invalid-id), so these
		// paths stay inside the output folder.
		if err := writeFile(filepath.Join(*out, e.Bundle), w.Bundle.Code); err != nil {
			fmt.Fprintf(stderr, "flowgate build: %v\n", err)
			return exitUsage
		}
		if err := writeFile(filepath.Join(*out, e.SourceMap), w.Bundle.SourceMap); err != nil {
			fmt.Fprintf(stderr, "flowgate build: %v\n", err)
			return exitUsage
		}
		m.Workflows = append(m.Workflows, e)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err == nil {
		err = writeFile(filepath.Join(*out, "manifest.json"), append(data, '\n'))
	}
	if err != nil {
		fmt.Fprintf(stderr, "flowgate build: %v\n", err)
		return exitUsage
	}
	n := len(m.Workflows)
	fmt.Fprintf(stdout, "wrote %d %s and %s\n", n, plural(n, "bundle", "bundles"), filepath.Join(*out, "manifest.json"))
	return exitOK
}

// writeFile writes data through a temporary file and a rename, so a reader
// never sees half a file.
func writeFile(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".flowgate-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
