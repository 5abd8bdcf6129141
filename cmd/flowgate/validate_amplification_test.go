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

// TestValidateSharedModuleAmplification: 40 workflows that each import
// one 4 MB module. esbuild built them in one run, every bundle holding
// the module, and kept all bundles and maps in memory: `flowgate validate
// --isolation inprocess` grew past 4 GB (100 workflows of 3.3 MB) before
// any size check ran. Now such a run falls back to one build per
// workflow, and the repository's bundles together are capped: the
// workflows past the cap fail with a located build-error.
func TestValidateSharedModuleAmplification(t *testing.T) {
	t.Parallel()
	const n = 40
	rep, code := validateShared(t, 4<<20, n)
	capped := count(rep, "add up to more than")
	// Each bundle is over 4 MB: at most MaxTotalOutputBytes/4 MiB pass.
	if want := n - bundle.MaxTotalOutputBytes/(4<<20); code != exitProblems || capped < want {
		t.Fatalf("exit %d, %d workflows over the output cap, want at least %d: %v", code, capped, want, rep.Diagnostics)
	}
}

// TestValidateSharedModuleReadAmplification: 80 workflows importing one
// 7.5 MB module, each bundle over the 5 MiB limit so no output cap
// applies: built one by one, they read 600 MB between them (a thousand
// such workflows: minutes of CPU in `flowgate validate --isolation
// inprocess`). The repository's builds now stop reading at
// MaxRepositorySourceBytes and the rest fail with a located build-error.
func TestValidateSharedModuleReadAmplification(t *testing.T) {
	t.Parallel()
	const n, size = 80, 15 << 19
	rep, code := validateShared(t, size, n)
	stopped := count(rep, "read more than")
	if want := n - bundle.MaxRepositorySourceBytes/size - 1; code != exitProblems || stopped < want {
		t.Fatalf("exit %d, %d workflows stopped, want at least %d: %v", code, stopped, want, rep.Diagnostics)
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

// validateShared validates, in process, a repository of n workflows that
// each import one module of about size bytes (long strings: cheap to
// parse, large to bundle).
func validateShared(t *testing.T, size, n int) (diag.Report, int) {
	t.Helper()
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
	var shared strings.Builder
	for i := 0; shared.Len() < size; i++ {
		fmt.Fprintf(&shared, "globalThis.v%d = %q;\n", i, strings.Repeat("x", 100<<10))
	}
	shared.WriteString("export const s = 1;\n")
	write("kindeSrc/environment/workflows/shared.js", shared.String())
	for i := range n {
		write(fmt.Sprintf("kindeSrc/environment/workflows/w%02dWorkflow.ts", i), fmt.Sprintf(
			"import {s} from \"./shared.js\";\nexport const workflowSettings = {id: \"w%d\", trigger: \"user:tokens_generation\"};\nexport default async () => s;\n", i))
	}
	stdout, stderr, code := cliRun(t, "validate", "--format", "json", "--isolation", "inprocess", repo)
	noGoDump(t, stdout, stderr)
	var rep diag.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not a report: %v\n%s", code, err, stderr)
	}
	return rep, code
}

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
