package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/flowgate/flowgate/internal/builder/hostilebuild"
	"github.com/flowgate/flowgate/internal/diag"
)

// TestValidateHostileBuild: every repository of the hostile corpus's build
// layer fails `flowgate validate` cleanly — exit 1 with the expected
// located diagnostic, never a Go dump — where each one (2,000,000 [,
// operator chains without brackets, brackets in package.json, tsconfig
// and inline source maps, /dev/zero, FIFOs, a planted parent tsconfig)
// used to kill the CLI with a fatal stack overflow or run it out of
// memory. Cases the in-process walls catch pass in --isolation inprocess
// too.
func TestValidateHostileBuild(t *testing.T) {
	t.Parallel()
	for _, c := range hostilebuild.Load(t, filepath.Join("..", "..")) {
		modes := []string{"process"}
		if c.Layer == "guard" && c.Name != "deep-import-graph" {
			modes = append(modes, "inprocess")
		}
		for _, mode := range modes {
			t.Run(c.Name+"/"+mode, func(t *testing.T) {
				repo := hostilebuild.Materialize(t, c)
				stdout, stderr, code := cliRun(t, "validate", "--format", "json", "--isolation", mode, repo)
				noGoDump(t, stdout, stderr)
				var rep diag.Report
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatalf("exit %d, stdout is not a report: %v\n%s\n%s", code, err, stdout, stderr)
				}
				var first *diag.Diagnostic
				for i, d := range rep.Diagnostics {
					if d.Severity == diag.Error {
						first = &rep.Diagnostics[i]
						break
					}
				}
				switch {
				case c.Rule == "" && (code != exitOK || first != nil):
					t.Fatalf("exit %d, diagnostics %v: want a clean pass", code, rep.Diagnostics)
				case c.Rule != "" && (code != exitProblems || first == nil || first.Rule != c.Rule || first.File != c.File):
					t.Fatalf("exit %d, diagnostics %v: want %s at %s", code, rep.Diagnostics, c.Rule, c.File)
				}
			})
		}
	}
}
