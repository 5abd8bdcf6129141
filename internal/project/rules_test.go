package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/diag"
)

// TestRulesDocumented: every rule id of the table is listed in the
// documentation people read (docs/cli.md, or docs/operations.md for the
// service's own rules), so a new rule cannot ship undocumented.
func TestRulesDocumented(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cli, ops := read("cli.md"), read("operations.md")
	for _, r := range diag.Rules {
		doc, where := cli, "docs/cli.md"
		if r.Service {
			doc, where = ops, "docs/operations.md"
		}
		if !strings.Contains(doc, "`"+r.ID+"`") {
			t.Errorf("rule %q is not listed in %s", r.ID, where)
		}
	}
}

// TestLiveElsewhere: the duplicate-trigger error the service reports for a
// trigger still served by a workflow the repository no longer has.
func TestLiveElsewhere(t *testing.T) {
	d := LiveElsewhere("kindeSrc/environment/workflows/aWorkflow.ts", "user:tokens_generation", "old")
	want := `kindeSrc/environment/workflows/aWorkflow.ts:1:1: error: trigger user:tokens_generation is already served by workflow "old", which is no longer in the repository but stays live until deleted; delete it in Flowgate, or deactivate it, then sync again [duplicate-trigger]`
	if got := d.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
