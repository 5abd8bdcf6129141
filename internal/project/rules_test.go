package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesDocumented: every rule id is explained beside its constant and
// listed in the CLI documentation, so a new rule cannot ship undocumented.
func TestRulesDocumented(t *testing.T) {
	code, err := os.ReadFile("rules.go")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r] {
			t.Errorf("rule %q listed twice in Rules", r)
		}
		seen[r] = true
		if !strings.Contains(string(code), "//\t"+r+" ") {
			t.Errorf("rule %q has no line in rules.go's documentation block", r)
		}
		if !strings.Contains(string(docs), "`"+r+"`") {
			t.Errorf("rule %q is not listed in docs/cli.md", r)
		}
	}
}
