package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/diag"
)

// TestValidateExportStarPaths: esbuild links `export *` by walking every
// path through the re-export graph, so a few kilobytes of modules cost
// exponential time: 12 modules that each `export * from` all twelve, or
// 24 layers of diamonds (m → a, b → next m; 72 modules), run for minutes
// in `flowgate validate --isolation inprocess` (10 modules: 18 s; 20
// layers: 10 s), far below the module cap. A builder process ends it at
// its CPU limit, but each such push costs the service a builder for 60 s
// of CPU. The pre-scan now bounds the walks through the export * graph
// it sees while loading (MaxStarPaths), before esbuild links.
func TestValidateExportStarPaths(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	wf := filepath.Join(repo, "kindeSrc", "environment", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(repo, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kinde.json", `{"rootDir": "kindeSrc", "version": "2024-12-09"}`)
	const n = 12
	for i := range n {
		var b strings.Builder
		for j := range n {
			fmt.Fprintf(&b, "export * from \"./m%d\";\n", j)
		}
		fmt.Fprintf(&b, "export const v%d = %d;\n", i, i)
		write(fmt.Sprintf("kindeSrc/environment/workflows/m%d.ts", i), b.String())
	}
	write("kindeSrc/environment/workflows/aWorkflow.ts", "import * as all from \"./m0\";\n"+
		"export const workflowSettings = {id: \"a\", trigger: \"user:tokens_generation\"};\nexport default async () => Object.keys(all).length;\n")
	stdout, stderr, code := cliRun(t, "validate", "--format", "json", "--isolation", "inprocess", repo)
	noGoDump(t, stdout, stderr)
	var rep diag.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not a report: %v\n%s", code, err, stderr)
	}
	if code != exitProblems || count(rep, "export *") == 0 {
		t.Fatalf("exit %d, diagnostics %v: want a build-error about the export * graph", code, rep.Diagnostics)
	}
}

// count is how many build-error diagnostics of rep contain text.
func count(rep diag.Report, text string) int {
	k := 0
	for _, d := range rep.Diagnostics {
		if d.Rule == bundle.RuleBuildError && strings.Contains(d.Message, text) {
			k++
		}
	}
	return k
}
