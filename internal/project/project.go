// Package project reads a workflow repository the way a sync does: it
// parses kinde.json, discovers the workflow files, bundles each one, reads
// its workflowSettings in a binding-less sandbox, and applies the sync
// rules. Every problem is a located diag.Diagnostic. The CLI, the GitHub
// Action and the GitHub App all call Check, so they validate identically.
package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Project is a repository whose kinde.json was read and whose workflow
// files were found.
type Project struct {
	Root   string   // absolute repository root
	Config *Config  // nil when kinde.json is missing or unusable
	Files  []string // workflow files, repository-relative, slash-separated, sorted
}

// Load reads kinde.json in dir and discovers the workflow files. Problems
// in the repository's content are diagnostics; the error is for a dir that
// cannot be read at all (missing, not a folder, no permission).
func Load(dir string) (*Project, []diag.Diagnostic, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("read repository: %w", err)
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("read repository: %s is not a directory", dir)
	}
	if _, err := os.ReadDir(root); err != nil {
		return nil, nil, fmt.Errorf("read repository: %w", err)
	}
	p := &Project{Root: root}
	// kinde.json may be a link, but only to a file inside the repository:
	// read through a link out, a host file's text would reach diagnostics.
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		realRoot = root
	}
	if w := (walker{root: root, realRoot: realRoot}); !w.insideLink(KindeJSON) {
		return p, w.ds, nil
	}
	data, err := readRegular(filepath.Join(root, KindeJSON), maxKindeJSON)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p, []diag.Diagnostic{diag.New(RuleMissingKindeJSON, KindeJSON, 1, 1,
			`the repository has no kinde.json at its root: add one containing {"rootDir": "kindeSrc", "version": "2024-12-09"} so Flowgate knows where the workflows are`)}, nil
	case err != nil:
		return p, []diag.Diagnostic{diag.New(RuleInvalidKindeJSON, KindeJSON, 1, 1,
			"kinde.json cannot be read (%v): make it a regular file of at most %d KiB", unwrapped(err), maxKindeJSON>>10)}, nil
	}
	cfg, ds := ParseKindeJSON(data)
	if cfg == nil {
		return p, ds, nil
	}
	p.Config = cfg
	files, more := discover(root, cfg)
	ds = append(ds, more...)
	p.Files = files
	if len(files) == 0 && !diag.HasErrors(more) {
		line, col := cfg.KeyPos("rootDir")
		ds = append(ds, diag.New(RuleNoWorkflows, KindeJSON, line, col,
			"no workflows: %s has no workflow files. A workflow file's name ends in \"Workflow\" with the extension .ts, .js, .tsx or .jsx (for example userTokensWorkflow.ts); check its name and that \"rootDir\" in kinde.json points at the right folder",
			cfg.WorkflowsDir()))
	}
	return p, ds, nil
}

// Options tune Check; the zero value is the default.
type Options struct {
	// SettingsTimeout bounds evaluating one workflow's top-level code
	// (default SettingsTimeout).
	SettingsTimeout time.Duration
	// Parallelism is how many workflows are bundled and read at once
	// (default GOMAXPROCS).
	Parallelism int
	// Inspector evaluates workflows' top-level code to read their settings
	// (a sandbox supervisor runs it in worker processes); nil reads them in
	// this process.
	Inspector Inspector
	// PackageDirs are package folders the tool installed itself outside
	// the repository (see bundle.Config); none by default.
	PackageDirs []string
	// OnStep, when set, is told each step before it starts: "bundle"
	// with each file esbuild is about to parse, "settings" and "analyze"
	// with each workflow file. The builder process reports the steps, so
	// a crash is located in the file being read. It may be called from
	// several goroutines at once.
	OnStep func(step, file string)
	// Crashed lists workflow files whose checks ended a builder process
	// before, with why: they are reported as build-crashed and not read
	// again, so the other workflows are still checked.
	Crashed map[string]string
}

// Steps reported to Options.OnStep.
const (
	StepBundle   = "bundle"
	StepSettings = "settings"
	StepAnalyze  = "analyze"
)

// maxKindeJSON is the largest kinde.json Load reads.
const maxKindeJSON = 1 << 20

// readRegular reads a file that is regular when opened (never a device
// or FIFO, which would block or never end) and at most limit bytes.
func readRegular(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	if info.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("larger than %d KiB", limit>>10)}
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// unwrapped is err's innermost message, without the host path.
func unwrapped(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// Workflow is one discovered workflow file and what checking it found.
type Workflow struct {
	File     string            // repository-relative, slash-separated
	Settings workflow.Settings // as read; fields are empty where they were invalid
	Bundle   *bundle.Output    // nil when bundling failed
	// Diagnostics are those about this workflow (in its file or the files
	// it imports, and cross-workflow ones that name it), sorted.
	Diagnostics []diag.Diagnostic
}

// Valid reports whether the workflow has no error diagnostics, so it can be
// deployed on its own.
func (w *Workflow) Valid() bool { return w.Bundle != nil && !diag.HasErrors(w.Diagnostics) }

// BindingNames lists the declared bindings, sorted; never nil.
func (w *Workflow) BindingNames() []string {
	names := make([]string, 0, len(w.Settings.Bindings))
	for n := range w.Settings.Bindings {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Report is the outcome of checking a repository.
type Report struct {
	Root        string
	Config      *Config           // nil when kinde.json is missing or unusable
	Workflows   []*Workflow       // every discovered workflow, in file order
	Diagnostics []diag.Diagnostic // all of them, sorted, without duplicates
}

// OK reports whether the repository has no error diagnostics (warnings allowed).
func (r *Report) OK() bool { return !diag.HasErrors(r.Diagnostics) }

// JSON returns the report in the shape `flowgate validate --format json` prints.
func (r *Report) JSON() diag.Report {
	out := diag.Report{Diagnostics: r.Diagnostics}
	for _, w := range r.Workflows {
		out.Workflows = append(out.Workflows, diag.Workflow{
			ID: w.Settings.ID, Name: w.Settings.Name, Trigger: w.Settings.Trigger,
			File: w.File, Bindings: w.BindingNames(),
		})
	}
	return out
}

// Check loads the repository in dir and checks every workflow: it bundles
// each one, reads its settings, and applies the sync rules. The error is for
// a dir that cannot be read at all; every problem in its content is a
// diagnostic in the Report.
func Check(ctx context.Context, dir string, opts Options) (*Report, error) {
	p, ds, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if opts.SettingsTimeout <= 0 {
		opts.SettingsTimeout = SettingsTimeout
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	r := &Report{Root: p.Root, Config: p.Config}
	r.Workflows = make([]*Workflow, len(p.Files))
	src := &sources{root: p.Root, files: map[string][]byte{}}
	step := opts.OnStep
	if step == nil {
		step = func(string, string) {}
	}
	// One esbuild run bundles every workflow; then each bundle is read in
	// its own sandbox, several at once.
	bc := bundle.Config{PackageDirs: opts.PackageDirs, OnParse: func(file string) { step(StepBundle, file) }}
	built := bc.BuildAll(p.Root, p.Files)
	insp := opts.Inspector
	if insp == nil {
		insp = NewLocalInspector()
	}
	sem := make(chan struct{}, opts.Parallelism)
	var wg sync.WaitGroup
	for i, file := range p.Files {
		w := &Workflow{File: file, Bundle: built[i].Output, Diagnostics: built[i].Diagnostics}
		r.Workflows[i] = w
		if why, ok := opts.Crashed[file]; ok {
			w.Diagnostics = append(w.Diagnostics, diag.New(RuleBuildCrashed, file, 1, 1, "%s", why))
			continue
		}
		if w.Bundle == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			checkOne(ctx, insp, opts.SettingsTimeout, w, src, step)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	crossCheck(r.Workflows, src)
	for _, w := range r.Workflows {
		diag.Sort(w.Diagnostics)
		ds = append(ds, w.Diagnostics...)
	}
	diag.Sort(ds)
	r.Diagnostics = slices.Compact(ds)
	return r, nil
}

// checkOne reads the settings of one bundled workflow and looks for
// undeclared bindings.
func checkOne(ctx context.Context, insp Inspector, timeout time.Duration, w *Workflow, src *sources, step func(string, string)) {
	step(StepSettings, w.File)
	res := insp.ReadSettings(ctx, InspectInput{
		File: w.File, Code: w.Bundle.Code, SourceMap: w.Bundle.SourceMap, Source: src.get(w.File), Timeout: timeout,
	})
	w.Settings = res.Settings
	w.Diagnostics = append(w.Diagnostics, res.Diagnostics...)
	if !res.HasSettings {
		return
	}
	own := map[string][]byte{}
	for _, in := range w.Bundle.Inputs {
		if ownSource(in) {
			own[in] = src.get(in)
		}
	}
	step(StepAnalyze, w.File)
	// One goja parse of the bundle serves both analyses; nil when it fails
	// or ctx ends (undeclared then counts every line, undefinedNames reports nothing).
	names, _ := parseBundle(ctx, w.Bundle.Code)
	w.Diagnostics = append(w.Diagnostics, undeclared(w, own, names)...)
	w.Diagnostics = append(w.Diagnostics, undefinedNames(ctx, w, own, names)...)
}

// crossCheck applies the rules across workflows: ids and triggers must be
// unique. Each workflow involved gets its own diagnostic naming the others.
func crossCheck(ws []*Workflow, src *sources) {
	dup := func(rule, what, field string, key func(*Workflow) string, advice string) {
		groups := map[string][]*Workflow{}
		for _, w := range ws {
			if k := key(w); k != "" {
				groups[k] = append(groups[k], w)
			}
		}
		for k, group := range groups {
			if len(group) < 2 {
				continue
			}
			for _, w := range group {
				var others []string
				for _, o := range group {
					if o != w {
						others = append(others, o.File)
					}
				}
				loc := newLocator(w.File, src.get(w.File))
				w.Diagnostics = append(w.Diagnostics, loc.report(rule, loc.key(field),
					"%s %q is also used by %s: %s", what, k, strings.Join(others, ", "), advice))
			}
		}
	}
	dup(RuleDuplicateID, "workflow id", "id", func(w *Workflow) string { return w.Settings.ID },
		"workflow ids must be unique, so give each workflow its own id")
	dup(RuleDuplicateTrigger, "trigger", "trigger", func(w *Workflow) string { return w.Settings.Trigger },
		"each trigger runs exactly one workflow, so remove or merge one of them")
}

// sources reads repository files once, shared by the concurrent checks.
type sources struct {
	root  string
	mu    sync.Mutex
	files map[string][]byte
}

func (s *sources) get(rel string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if data, ok := s.files[rel]; ok {
		return data
	}
	data, _ := readRegular(filepath.Join(s.root, filepath.FromSlash(rel)), bundle.MaxSourceBytes)
	s.files[rel] = data
	return data
}
