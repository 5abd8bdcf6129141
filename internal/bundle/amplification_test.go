package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The repository-wide bounds are hundreds of megabytes; these tests cross
// the same bounds, set to a few, with the same code path.

// TestSharedModuleOutputIsCapped: workflows that each import one large
// module. A single esbuild run would keep every bundle, each holding the
// module, in memory at once, so past the shared bound each workflow is
// built on its own; and the repository's bundles together are capped:
// the workflows past the cap fail with a build-error at their own file.
func TestSharedModuleOutputIsCapped(t *testing.T) {
	t.Parallel()
	const n, size = 40, 256 << 10
	lim := caps{bundle: MaxBundleSize, shared: 2 << 20, totalOutput: 2 << 20, repositorySource: MaxRepositorySourceBytes}
	root, entries := repoSharing(t, size, n)
	built, stopped := tally(t, Config{caps: &lim}.BuildAll(root, entries), entries, "add up to more than 2 MiB")
	// Each bundle holds the module, so at most totalOutput/size fit.
	if built == 0 || built > lim.totalOutput/size || built+stopped != n {
		t.Fatalf("%d built, %d over the output cap, of %d", built, stopped, n)
	}
}

// TestSharedModuleReadsAreCapped: workflows importing one large module,
// each bundle over the bundle size limit so no output cap applies. Built
// one by one, they would each parse the module again; the repository's
// builds stop reading past the repository source bound, and the rest fail
// with a build-error at their own file.
func TestSharedModuleReadsAreCapped(t *testing.T) {
	t.Parallel()
	const n, size = 40, 5 << 18
	lim := caps{bundle: 1 << 20, shared: 2 << 20, totalOutput: MaxTotalOutputBytes, repositorySource: 8 << 20}
	root, entries := repoSharing(t, size, n)
	res := Config{caps: &lim}.BuildAll(root, entries)
	tooBig := 0
	for _, r := range res {
		if r.Output == nil && len(r.Diagnostics) == 1 && strings.Contains(r.Diagnostics[0].Message, "over the 1 MiB limit") {
			tooBig++
		}
	}
	_, stopped := tally(t, res, entries, "read more than 8 MiB")
	if want := n - int(lim.repositorySource)/size - 1; stopped < want || tooBig+stopped != n {
		t.Fatalf("%d stopped (want at least %d), %d over the bundle limit, of %d", stopped, want, tooBig, n)
	}
}

// repoSharing writes a repository of n workflows that each import one
// module of about size bytes: long strings, cheap to parse and large to
// bundle.
func repoSharing(t *testing.T, size, n int) (root string, entries []string) {
	t.Helper()
	root = t.TempDir()
	dir := "kindeSrc/environment/workflows"
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var shared strings.Builder
	for i := 0; shared.Len() < size; i++ {
		fmt.Fprintf(&shared, "globalThis.v%d = %q;\n", i, strings.Repeat("x", 16<<10))
	}
	shared.WriteString("export const s = 1;\n")
	write(dir+"/shared.js", shared.String())
	for i := range n {
		e := fmt.Sprintf("%s/w%02dWorkflow.ts", dir, i)
		write(e, fmt.Sprintf("import {s} from \"./shared.js\";\nexport const workflowSettings = {id: \"w%d\", trigger: \"user:tokens_generation\"};\nexport default async () => s;\n", i))
		entries = append(entries, e)
	}
	return root, entries
}

// tally counts the results that built and those that failed with exactly
// one build-error containing text, which must be located at their own
// entry.
func tally(t *testing.T, res []Result, entries []string, text string) (built, stopped int) {
	t.Helper()
	for i, r := range res {
		switch {
		case r.Output != nil:
			built++
		case len(r.Diagnostics) == 1 && strings.Contains(r.Diagnostics[0].Message, text):
			if d := r.Diagnostics[0]; d.Rule != RuleBuildError || d.File != entries[i] {
				t.Errorf("%s: %s at %s, want %s at the entry", entries[i], d.Rule, d.File, RuleBuildError)
			}
			stopped++
		}
	}
	return built, stopped
}
