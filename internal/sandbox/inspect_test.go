package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/workflow"
)

// writeRepo writes a workflow repository with the given workflow files.
func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["kinde.json"] = `{"rootDir": "kindeSrc", "version": "2024-12-09"}`
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckThroughWorkers validates a repository through the supervisor:
// top-level code with a prototype cycle through a Proxy (which crashed
// validate before the runtime bounded it; now a located thrown error) is a
// located diagnostic, and the good workflow beside it is read as usual.
func TestCheckThroughWorkers(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	dir := writeRepo(t, map[string]string{
		"kindeSrc/environment/workflows/goodWorkflow.ts": `export const workflowSettings = { id: "good", trigger: "user:tokens_generation" };
export default async function handler(event: any) {}
`,
		"kindeSrc/environment/workflows/badWorkflow.ts": `const t: any = {}, p = new Proxy(t, {}); Object.setPrototypeOf(t, p); p.foo;
export const workflowSettings = { id: "bad", trigger: "user:post_authentication" };
export default async function handler(event: any) {}
`,
	})
	r, err := project.Check(context.Background(), dir, project.Options{Inspector: s, SettingsTimeout: testWall})
	if err != nil {
		t.Fatal(err)
	}
	var good, bad *project.Workflow
	for _, w := range r.Workflows {
		switch {
		case strings.HasSuffix(w.File, "goodWorkflow.ts"):
			good = w
		case strings.HasSuffix(w.File, "badWorkflow.ts"):
			bad = w
		}
	}
	if good == nil || bad == nil {
		t.Fatalf("workflows %+v", r.Workflows)
	}
	if good.Settings.ID != "good" || good.Settings.Trigger != workflow.UserTokenGeneration || diag.HasErrors(good.Diagnostics) {
		t.Errorf("good workflow: %+v %+v", good.Settings, good.Diagnostics)
	}
	var found bool
	for _, d := range bad.Diagnostics {
		if d.Rule == project.RuleTopLevelError && d.File == bad.File && d.Line >= 1 {
			found = true
			t.Logf("%s:%d:%d: %s [%s]", d.File, d.Line, d.Column, d.Message, d.Rule)
			if strings.Contains(d.Message, "goroutine") {
				t.Errorf("the diagnostic shows a Go dump: %q", d.Message)
			}
		}
	}
	if !found {
		t.Errorf("bad workflow diagnostics %+v, want a located %s", bad.Diagnostics, project.RuleTopLevelError)
	}
}

// crashingInspector reads one file's settings with a worker that
// overflows the Go stack, as top-level code the runtime's guards miss would.
type crashingInspector struct {
	s    *Supervisor
	file string
}

func (c crashingInspector) ReadSettings(ctx context.Context, in project.InspectInput) project.Introspection {
	if strings.HasSuffix(in.File, c.file) {
		return c.s.readSettings(ctx, hookOverflow, in)
	}
	return c.s.ReadSettings(ctx, in)
}

// TestCheckSurvivesACrashingWorker: validate, with one workflow whose
// settings read kills its worker, reports a located diagnostic for it and
// reads the others.
func TestCheckSurvivesACrashingWorker(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	dir := writeRepo(t, map[string]string{
		"kindeSrc/environment/workflows/goodWorkflow.ts": `export const workflowSettings = { id: "good", trigger: "user:tokens_generation" };
export default async function handler(event: any) {}
`,
		"kindeSrc/environment/workflows/crashWorkflow.ts": `export const workflowSettings = { id: "crash", trigger: "user:post_authentication" };
export default async function handler(event: any) {}
`,
	})
	r, err := project.Check(context.Background(), dir, project.Options{Inspector: crashingInspector{s, "crashWorkflow.ts"}, SettingsTimeout: testWall})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, d := range r.Diagnostics {
		msgs = append(msgs, d.File+": "+d.Rule+": "+d.Message)
	}
	if len(r.Diagnostics) != 1 {
		t.Fatalf("diagnostics %q, want one for the crashing workflow", msgs)
	}
	d := r.Diagnostics[0]
	if d.Rule != project.RuleTopLevelError || !strings.HasSuffix(d.File, "crashWorkflow.ts") || d.Line != 1 ||
		!strings.Contains(d.Message, "native stack limit") || strings.Contains(d.Message, "goroutine") {
		t.Errorf("diagnostic %+v", d)
	}
	for _, w := range r.Workflows {
		if strings.HasSuffix(w.File, "goodWorkflow.ts") && w.Settings.ID != "good" {
			t.Errorf("the good workflow was not read: %+v", w.Settings)
		}
	}
}

// TestReadSettingsCrash forces the worker to die while reading settings.
func TestReadSettingsCrash(t *testing.T) {
	s, _ := newSupervisor(t, nil)
	in := project.InspectInput{File: "kindeSrc/environment/workflows/xWorkflow.js",
		Code: []byte(`module.exports.workflowSettings = {id: "x", trigger: "user:tokens_generation"}; module.exports.default = function () {}`)}
	got := s.ReadSettings(context.Background(), in)
	if !got.HasSettings || got.Settings.ID != "x" || len(got.Diagnostics) != 0 {
		t.Fatalf("ReadSettings = %+v", got)
	}
	// A spinning worker: the deadline (timeout + grace) stops it.
	w, err := s.acquire(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	f, fail := s.call(context.Background(), w, hookSpin, []byte(`{}`), 50*time.Millisecond, nil)
	if fail == nil || fail.kind != workflow.KindTimeout {
		t.Fatalf("call = %+v, %+v", f, fail)
	}
	s.failed(w, "spin", "", fail)
	got = s.ReadSettings(context.Background(), in)
	if !got.HasSettings {
		t.Fatalf("a fresh worker did not read the settings: %+v", got)
	}
}
