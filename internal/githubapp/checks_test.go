package githubapp

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// render shows a check run as people see it: name, conclusion and title,
// the Markdown summary, then the annotations.
func render(o CheckOutput) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s — %s (make-live button: %v)\n\n%s", o.Name, o.Conclusion, o.Title, o.MakeLive, o.Summary)
	for i, batch := range o.Annotations {
		fmt.Fprintf(&b, "\n-- annotations, request %d\n", i+1)
		for _, a := range batch {
			fmt.Fprintf(&b, "%s:%d-%d %s [%s] %s\n", a.Path, a.StartLine, a.EndLine, a.Level, a.Title, a.Message)
		}
	}
	return []byte(b.String())
}

func TestCheckGolden(t *testing.T) {
	t.Parallel()
	wfs := []WorkflowLine{
		{ID: "enrichTokens", Trigger: "user:tokens_generation", File: "kindeSrc/environment/workflows/enrichTokensWorkflow.ts", Deployment: "dep_1", Status: "Live"},
		{ID: "checkPassword", Trigger: "user:new_password_provided", File: "kindeSrc/environment/workflows/pw/checkPasswordWorkflow.ts", Deployment: "dep_2", Status: "Live"},
	}
	broken := []diag.Diagnostic{
		diag.Errorf("build-error", "kindeSrc/environment/workflows/enrichTokensWorkflow.ts", 3, 10, "could not resolve \"left-pad\": run `npm install left-pad`"),
		diag.Errorf("unknown-trigger", "kindeSrc/environment/workflows/pw/checkPasswordWorkflow.ts", 4, 12, "unknown trigger \"user:nope\""),
		diag.Warnf("undeclared-binding", "kindeSrc/environment/workflows/pw/checkPasswordWorkflow.ts", 9, 3, "kinde.fetch is used | but not declared"),
	}
	cases := map[string]SyncReport{
		"ok":      {Repo: "acme/flows", SHA: "0123456789abcdef", Environment: "production", Workflows: wfs},
		"preview": {Repo: "acme/flows", SHA: "0123456789abcdef", Environment: "production", PreviewMode: true, Workflows: []WorkflowLine{{ID: "enrichTokens", Trigger: "user:tokens_generation", Deployment: "dep_3", Status: "Draft"}}},
		"broken":  {Repo: "acme/flows", SHA: "0123456789abcdef", Environment: "production", Workflows: wfs[:1], Diagnostics: broken},
		"pr":      {Repo: "acme/flows", SHA: "0123456789abcdef", Environment: "production", Workflows: wfs, PullRequest: true},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			golden(t, "checks/"+name+".sync.md", render(SyncCheck(r)))
			golden(t, "checks/"+name+".build.md", render(BuildCheck(r)))
		})
	}
}

func TestCheckLimits(t *testing.T) {
	t.Parallel()
	var ds []diag.Diagnostic
	for i := range 120 {
		ds = append(ds, diag.Errorf("unknown-trigger", "k/w.ts", i+1, 1, "%s", strings.Repeat("é", 40<<10)))
	}
	out := SyncCheck(SyncReport{SHA: "abc", Diagnostics: ds, LogURL: "https://flowgate.example/syncs/1"})
	if len(out.Summary) > maxSummary {
		t.Fatalf("summary is %d bytes", len(out.Summary))
	}
	if !strings.HasSuffix(out.Summary, "Full log: https://flowgate.example/syncs/1") {
		t.Errorf("cut summary does not link the full log: …%s", out.Summary[len(out.Summary)-80:])
	}
	if len(out.Annotations) != 3 || len(out.Annotations[0]) != 50 || len(out.Annotations[2]) != 20 {
		t.Fatalf("batches = %d", len(out.Annotations))
	}
	for _, a := range out.Annotations[0] {
		if len(a.Message) > maxAnnotationText || !strings.HasSuffix(a.Message, "é") {
			t.Fatalf("annotation message %d bytes, cut mid-character: %v", len(a.Message), !strings.HasSuffix(a.Message, "é"))
		}
	}
	if out.Conclusion != "failure" {
		t.Errorf("conclusion = %s", out.Conclusion)
	}
}
