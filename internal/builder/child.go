package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/project"
)

// The marker and the argument a builder process is started with. The
// argument makes a main that forgot to call MaybeBuilder fail at once on
// an unknown flag instead of doing its normal work.
const (
	builderEnv     = "FLOWGATE_BUILDER"
	builderVersion = "1"
	builderArg     = "-flowgate-builder"
)

// Operations a builder performs.
const (
	opCheck = "check"
	opScan  = "scan"
)

// request is what the caller sends a builder on its stdin: one job.
type request struct {
	Op      string   `json:"op"`
	Dir     string   `json:"dir"`
	Entries []string `json:"entries,omitempty"` // scan

	PackageDirs     []string          `json:"packageDirs,omitempty"`
	SettingsTimeout time.Duration     `json:"settingsTimeout,omitempty"`
	Parallelism     int               `json:"parallelism,omitempty"`
	Crashed         map[string]string `json:"crashed,omitempty"`

	// The builder's own limits, applied before it reads anything else.
	MaxStack     int    `json:"maxStack"`
	SoftMemory   int64  `json:"softMemory"`
	AddressSpace uint64 `json:"addressSpace"`
	CPUSeconds   uint64 `json:"cpuSeconds"`
}

// message is one line a builder writes on its stdout: a step it starts
// (so a crash can be located), the workflow files it found, or the
// result, last.
type message struct {
	Ready   bool              `json:"ready,omitempty"`
	Step    string            `json:"step,omitempty"`
	File    string            `json:"file,omitempty"`
	Files   []string          `json:"files,omitempty"`
	Report  *project.Report   `json:"report,omitempty"`
	Imports []npm.ImportRef   `json:"imports,omitempty"`
	Diags   []diag.Diagnostic `json:"diagnostics,omitempty"`
	Error   string            `json:"error,omitempty"`
	Done    bool              `json:"done,omitempty"`
}

// MaybeBuilder serves one job and exits when this process was started as
// a builder; otherwise it returns at once. Call it first in main, and in
// TestMain of packages whose tests start builders.
func MaybeBuilder() { MaybeBuilderWith(nil) }

// MaybeBuilderWith is MaybeBuilder with a function called at each step in
// the builder (tests use it to crash a builder on purpose).
func MaybeBuilderWith(onStep func(step, file string)) {
	v, ok := os.LookupEnv(builderEnv)
	if !ok {
		return
	}
	if v != builderVersion {
		fmt.Fprintf(os.Stderr, "flowgate builder: protocol %q, this binary speaks %q\n", v, builderVersion)
		os.Exit(3)
	}
	if err := serve(os.Stdin, os.Stdout, onStep); err != nil {
		fmt.Fprintf(os.Stderr, "flowgate builder: %v\n", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// serve reads one request, applies the builder's limits, runs the job and
// writes its messages, each line written at once (a crash loses nothing
// said before it).
func serve(r io.Reader, w io.Writer, onStep func(step, file string)) error {
	var req request
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&req); err != nil {
		return fmt.Errorf("read the request: %w", err)
	}
	if req.MaxStack > 0 {
		debug.SetMaxStack(req.MaxStack)
	}
	if req.SoftMemory > 0 {
		debug.SetMemoryLimit(req.SoftMemory)
	}
	limitSelf(req.AddressSpace, req.CPUSeconds)

	var mu sync.Mutex
	enc := json.NewEncoder(w)
	send := func(m message) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(m)
	}
	if err := send(message{Ready: true}); err != nil {
		return err
	}
	step := func(s, file string) {
		_ = send(message{Step: s, File: file})
		if onStep != nil {
			onStep(s, file)
		}
	}
	ctx := context.Background()
	switch req.Op {
	case opScan:
		refs := npm.ScanWith(bundle.Config{OnParse: func(f string) { step(project.StepBundle, f) }}, req.Dir, req.Entries)
		return send(message{Imports: refs, Done: true})
	case opCheck:
		if p, _, err := project.Load(req.Dir); err == nil {
			if err := send(message{Files: p.Files}); err != nil {
				return err
			}
		}
		rep, err := project.Check(ctx, req.Dir, project.Options{
			SettingsTimeout: req.SettingsTimeout, Parallelism: req.Parallelism,
			PackageDirs: req.PackageDirs, Crashed: req.Crashed, OnStep: step,
		})
		if err != nil {
			return send(message{Error: err.Error(), Done: true})
		}
		return send(message{Report: rep, Done: true})
	}
	return fmt.Errorf("unknown operation %q", req.Op)
}
