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
