package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/workflow"
)

const testUsage = `Usage: flowgate test [--run REGEXP] [DIR]

Runs the workflow tests of the repository in DIR (default "."): every
*.test.json file under the workflows' root folder (kinde.json "rootDir",
usually kindeSrc/). Each file names a workflow and lists cases: an event,
environment variables, stubbed HTTP responses for kinde.fetch, and the part
of the Result the run must produce. The format is in docs/testing-workflows.md.

Each case runs in the same sandbox "flowgate run" uses; nothing reaches the
network (a request no stub answers fails the case). One line per case, ok
or FAIL with the differences, then "N passed, N failed".

Flags:
  --run REGEXP   run only the cases whose "file: name" matches REGEXP

Exit status: 0 all passed, 1 a case failed (or the repository cannot be
read), 2 bad usage or a malformed test file (with its line and column).
`

// testSuffix names workflow test files.
const testSuffix = ".test.json"

func runTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runPattern := fs.String("run", "", "")
	dir, code, ok := parseArgs(fs, "test", testUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	filter, err := regexp.Compile(*runPattern)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: --run: %v\n", err)
		return exitUsage
	}
	r, err := project.Check(context.Background(), dir, project.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: %v\n", err)
		return exitUsage
	}
	if r.Config == nil {
		diag.WriteText(stderr, fromCwd(dir, r.Diagnostics))
		fmt.Fprintln(stderr, "flowgate test: kinde.json must be fixed before the tests can be found")
		return exitProblems
	}
	names, err := findTestFiles(r.Root, r.Config.RootDir)
	if err != nil {
		fmt.Fprintf(stderr, "flowgate test: %v\n", err)
		return exitUsage
	}
	var files []*testFile
	bad := false
	for _, rel := range names {
		shown := filepath.Join(dir, rel)
		data, err := os.ReadFile(filepath.Join(r.Root, rel))
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", shown, err)
			bad = true
			continue
		}
		tf, err := parseTestFile(data, shown, filepath.Dir(filepath.Join(r.Root, rel)))
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
		fmt.Fprintf(stderr, "flowgate test: no test files (*%s) under %s\n", testSuffix, filepath.Join(dir, r.Config.RootDir))
	}
	diag.WriteText(stderr, fromCwd(dir, r.Diagnostics))

	eng := runtime.New(runtime.Options{})
	passed, failed := 0, 0
	for _, tf := range files {
		w, program, problem := testTarget(eng, r, tf)
		for _, tc := range tf.Cases {
			label := tf.Path + ": " + tc.Name
			if !filter.MatchString(label) {
				continue
			}
			var lines []string
			if problem != "" {
				lines = []string{problem}
			} else {
				lines = runCase(eng, w, program, tc)
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

// findTestFiles lists the *.test.json files under rootDir, relative to
// root, sorted; node_modules and hidden folders are skipped.
func findTestFiles(root, rootDir string) ([]string, error) {
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
		if strings.HasSuffix(d.Name(), testSuffix) && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// testTarget finds and loads the workflow a test file names; problem says
// why its cases cannot run.
func testTarget(eng *runtime.Engine, r *project.Report, tf *testFile) (*project.Workflow, *runtime.Program, string) {
	w := pick(r, tf.Trigger, tf.Workflow)
	switch {
	case w == nil && tf.Workflow != "":
		return nil, nil, fmt.Sprintf("no workflow has id %q (the workflows are: %s)", tf.Workflow, workflowIDs(r))
	case w == nil:
		return nil, nil, fmt.Sprintf("no workflow has trigger %q", tf.Trigger)
	case !w.Valid():
		return nil, nil, fmt.Sprintf("workflow %s has errors (listed above); fix them first", w.File)
	}
	p, err := eng.Load(w.Bundle.Code, w.Bundle.SourceMap)
	if err != nil {
		return nil, nil, fmt.Sprintf("workflow %s cannot be loaded: %v", w.File, err)
	}
	return w, p, ""
}

// runCase runs one case and returns its failures (none when it passed).
func runCase(eng *runtime.Engine, w *project.Workflow, p *runtime.Program, tc *testCase) []string {
	tr := &stubTransport{stubs: tc.Fetch}
	cfg := &bindings.Config{
		Settings:      w.Settings,
		Env:           tc.Env,
		EncryptionKey: tc.EncryptionKey,
		Net:           &bindings.NetPolicy{Transport: tr},
		Cache:         bindings.NewTokenCache(),
		Redact:        passwords(tc.Event),
	}
	res := eng.Run(context.Background(), runtime.Invocation{Program: p, Settings: w.Settings, Event: tc.Event, Bindings: cfg})
	lines := tr.unmatchedLines()
	actual, err := asJSON(res)
	if err != nil {
		return append(lines, err.Error())
	}
	expect := tc.Expect
	if expect == nil {
		expect = map[string]any{}
	}
	lines = append(lines, match(expect, actual)...)
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
