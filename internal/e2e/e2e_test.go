// Package e2e runs real workflows that import the real
// @kinde/infrastructure@0.9.0 through the whole pipeline a sync and a
// trigger use: project.Check (discovery, esbuild, settings) and then
// runtime.Run with the real bindings, against local HTTP servers speaking
// the real protocols. It holds tests only.
package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/testenv"
	"github.com/flowgate/flowgate/internal/workflow"
)

// repo is a checked fixture repository and an engine to run its workflows.
type repo struct {
	report *project.Report
	eng    *runtime.Engine
}

// checkRepo copies testdata/<name> with the real node_modules and checks
// it; error diagnostics fail the test.
func checkRepo(t *testing.T, name string) *repo {
	t.Helper()
	dir := testenv.CopyRepo(t, filepath.Join("testdata", name), true)
	r, err := project.Check(context.Background(), dir, project.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		var b strings.Builder
		diag.WriteText(&b, r.Diagnostics)
		t.Fatalf("fixture %s has errors:\n%s", name, b.String())
	}
	return &repo{report: r, eng: runtime.New(runtime.Options{})}
}

// workflow returns the workflow with id.
func (r *repo) workflow(t *testing.T, id string) *project.Workflow {
	t.Helper()
	for _, w := range r.report.Workflows {
		if w.Settings.ID == id {
			return w
		}
	}
	t.Fatalf("no workflow %q", id)
	return nil
}

// run invokes workflow id once on event with cfg (Settings filled in).
func (r *repo) run(t *testing.T, id, event string, cfg *bindings.Config) *workflow.Result {
	t.Helper()
	w := r.workflow(t, id)
	p, err := r.eng.Load(w.Bundle.Code, w.Bundle.SourceMap)
	if err != nil {
		t.Fatalf("load %s: %v", id, err)
	}
	if cfg == nil {
		cfg = &bindings.Config{}
	}
	cfg.Settings = w.Settings
	return r.eng.Run(context.Background(), runtime.Invocation{Program: p, Settings: w.Settings, Event: []byte(event), Bindings: cfg})
}

// mustSucceed fails the test when res failed.
func mustSucceed(t *testing.T, res *workflow.Result) {
	t.Helper()
	if res.Status != workflow.StatusSucceeded {
		msg := ""
		if res.Error != nil {
			msg = res.Error.Message + "\n" + res.Error.Stack
		}
		t.Fatalf("status %s: %s", res.Status, msg)
	}
}

// asJSON renders v compactly, for comparisons.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func logLines(res *workflow.Result) string {
	var b strings.Builder
	for _, l := range res.Logs {
		b.WriteString(l.Level + ": " + l.Message + "\n")
	}
	return b.String()
}
