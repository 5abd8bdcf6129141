package archdoc

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/flowgate/flowgate/internal/"

// drawn reads the packages the drawing names, top of the page first.
func drawn(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\nservice ")
	end := strings.Index(doc[start:], "```")
	if start < 0 || end < 0 {
		t.Fatal("the package drawing is not in docs/architecture.md")
	}
	row := regexp.MustCompile(`^(?:service|engine)?\s+([a-z]+)\s{2,}`)
	var pkgs []string
	for _, line := range strings.Split(doc[start:start+end], "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			if _, err := os.Stat(filepath.Join("..", m[1])); err == nil {
				pkgs = append(pkgs, m[1])
			}
		}
	}
	if len(pkgs) < 20 {
		t.Fatalf("read only %d packages from the drawing: %v", len(pkgs), pkgs)
	}
	return pkgs
}

// imports lists the internal packages pkg's non-test files import.
func imports(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", pkg, "*.go"))
	out := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p := strings.Trim(im.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module); ok {
				out[strings.Split(rest, "/")[0]] = true
			}
		}
	}
	return out
}

// TestDependenciesPointDownThePage: no drawn package imports one drawn
// above it.
func TestDependenciesPointDownThePage(t *testing.T) {
	pkgs := drawn(t)
	row := map[string]int{}
	for i, p := range pkgs {
		row[p] = i
	}
	for i, p := range pkgs {
		for dep := range imports(t, p) {
			if j, ok := row[dep]; ok && j < i {
				t.Errorf("%s imports %s, which docs/architecture.md draws above it", p, dep)
			}
		}
	}
}
