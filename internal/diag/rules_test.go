package diag

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRuleTable: ids are unique, severities are Error or Warning, each has
// its meaning written down, and every Rule constant of rules.go is in it.
func TestRuleTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.ID] {
			t.Errorf("rule %q twice in Rules", r.ID)
		}
		seen[r.ID] = true
		if r.Severity != Error && r.Severity != Warning {
			t.Errorf("rule %q: severity %q", r.ID, r.Severity)
		}
		if r.Doc == "" {
			t.Errorf("rule %q: no Doc", r.ID)
		}
		if r.Lenient != "" && r.Severity != Error {
			t.Errorf("rule %q: only an error rule can have a lenient case", r.ID)
		}
	}
	f, err := parser.ParseFile(token.NewFileSet(), "rules.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			lit, ok := v.Values[0].(*ast.BasicLit)
			if !ok || !strings.HasPrefix(v.Names[0].Name, "Rule") {
				continue
			}
			id, _ := strconv.Unquote(lit.Value)
			if !seen[id] {
				t.Errorf("%s = %q is not in Rules: add its line (severity, doc)", v.Names[0].Name, id)
			}
		}
	}
}

func TestNewTakesSeverityFromTheTable(t *testing.T) {
	for _, r := range Rules {
		d := New(r.ID, "a.ts", 2, 3, "m %d", 1)
		if d.Severity != r.Severity || d.Rule != r.ID || d.Message != "m 1" || d.Line != 2 || d.Column != 3 {
			t.Errorf("New(%q) = %+v", r.ID, d)
		}
		want := r.Severity
		if r.Lenient != "" {
			want = Warning
		}
		if got := Lenient(d).Severity; got != want {
			t.Errorf("Lenient(%q) severity = %q, want %q", r.ID, got, want)
		}
	}
	if d := New("no-such-rule", "a", 1, 1, "x"); d.Severity != Error {
		t.Errorf("an unknown rule is %q, want error", d.Severity)
	}
}

// TestCodeReportsThroughTheTable: outside tests, diagnostics are made with
// New and a Rule constant, so the severity is the table's, not the call
// site's. The walk covers the module's Go files.
func TestCodeReportsThroughTheTable(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasPrefix(path, filepath.Join(root, "internal", "diag")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "diag" {
				return true
			}
			switch sel.Sel.Name {
			case "Errorf", "Warnf":
				t.Errorf("%s: diag.%s chooses the severity at the call site: use diag.New with a rule of diag.Rules", fset.Position(call.Pos()), sel.Sel.Name)
			case "New":
				if len(call.Args) > 0 {
					if _, lit := call.Args[0].(*ast.BasicLit); lit {
						t.Errorf("%s: diag.New with a literal rule id: add the rule to diag.Rules and use its constant", fset.Position(call.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
