package wftest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/httpstub"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Find lists the test files under rootDir (kinde.json's "rootDir"),
// relative to root, sorted; node_modules and hidden folders are skipped.
// A missing rootDir has none.
func Find(root, rootDir string) ([]string, error) {
	var out []string
	base := filepath.Join(root, filepath.FromSlash(rootDir))
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == base && os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			if p != base && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), Suffix) && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Target finds the workflow a test file names in a checked repository.
// problem, when not empty, says why its cases cannot run.
func Target(r *project.Report, f *File) (w *invoke.Workflow, problem string) {
	pw := r.Pick(f.Trigger, f.Workflow)
	switch {
	case pw == nil && f.Workflow != "":
		return nil, fmt.Sprintf("no workflow has id %q (the workflows are: %s)", f.Workflow, r.IDList())
	case pw == nil:
		return nil, fmt.Sprintf("no workflow has trigger %q", f.Trigger)
	case !pw.Valid():
		return nil, fmt.Sprintf("workflow %s has errors (listed above); fix them first", pw.File)
	}
	return &invoke.Workflow{Settings: pw.Settings, Code: pw.Bundle.Code, SourceMap: pw.Bundle.SourceMap}, ""
}

// Unreadable returns, for each workflow whose settings could not be read
// (a syntax error, say), its first error: when no workflow matches a test
// file, one of these is likely the one it meant.
func Unreadable(r *project.Report) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, w := range r.Workflows {
		if w.Settings.ID != "" || w.Settings.Trigger != "" {
			continue
		}
		for _, d := range w.Diagnostics {
			if d.IsError() {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// RunCase runs one case of w through invoke, in runner, with the case's
// stubs answering every fetch, and returns one line per failure (none when
// the case passed).
func RunCase(ctx context.Context, runner sandbox.Runner, w *invoke.Workflow, c *Case) []string {
	stubs := c.Fetch
	if stubs == nil {
		stubs = []httpstub.Stub{} // never the network
	}
	resp := invoke.Run(ctx, runner, invoke.Request{
		Workflows: []invoke.Workflow{*w}, WorkflowID: w.Settings.ID,
		Event: c.Event, Env: c.Env, EncryptionKey: c.EncryptionKey, Stubs: stubs,
	})
	res := resp.Result
	lines := resp.Unmatched
	actual, err := asJSON(res)
	if err != nil {
		return append(lines, err.Error())
	}
	expect := c.Expect
	if expect == nil {
		expect = map[string]any{}
	}
	lines = append(lines, Match(expect, actual)...)
	if len(lines) > 0 && res.Error != nil {
		msg := res.Error.Stack
		if msg == "" {
			msg = res.Error.Message
		}
		lines = append(lines, "the run failed: "+strings.TrimRight(msg, "\n"))
	}
	return lines
}

// asJSON is the Result as the JSON a user writes expectations against.
func asJSON(res *workflow.Result) (map[string]any, error) {
	data, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("result is not JSON: %v", err)
	}
	var m map[string]any
	err = json.Unmarshal(data, &m)
	return m, err
}
