// Package docs holds Flowgate's documentation; its test keeps the package
// drawing of architecture.md true to the code.
package docs

import (
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const internalPrefix = "github.com/flowgate/flowgate/internal/"

// drawnPackage is one package line of the drawing.
type drawnPackage struct {
	name string // path under internal/, e.g. "adapters/hydra"
	line int    // 1-based line in architecture.md
}

// readDrawing returns the packages of the code block under "## The house",
// top to bottom. A package line has its name starting at column 13, after
// a group name ("service", "engine", …) or blanks; a line that starts
// further right continues the description above it.
func readDrawing(t *testing.T) []drawnPackage {
	t.Helper()
	b, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.Index(lines, "## The house")
	if i < 0 {
		t.Fatal(`architecture.md has no "## The house" section: the package drawing lives there`)
	}
	for i < len(lines) && lines[i] != "```" {
		i++
	}
	var out []drawnPackage
	for i++; i < len(lines) && lines[i] != "```"; i++ {
		l := lines[i]
		if len(l) <= 12 || l[11] != ' ' || l[12] == ' ' || len(strings.Fields(l[:12])) > 1 {
			continue
		}
		out = append(out, drawnPackage{name: strings.Fields(l[12:])[0], line: i + 1})
	}
	if len(out) == 0 {
		t.Fatal("no package lines found in the drawing under \"## The house\" (name at column 13)")
	}
	return out
}

// internalImports maps every package under internal/ to the internal
// packages its non-test files import (what `go list` reports as Imports).
func internalImports(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "internal")
	pkgs := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if n := d.Name(); path != root && (n == "testdata" || n == "node_modules" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		var imps []string
		for _, imp := range p.Imports {
			if name, ok := strings.CutPrefix(imp, internalPrefix); ok {
				imps = append(imps, name)
			}
		}
		pkgs[filepath.ToSlash(rel)] = imps
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestArchitectureDrawingMatchesImports: every package under internal/
// has a line in the drawing of docs/architecture.md, no line names a
// package that is gone, and every import points down the page. Each
// failure says which line to add, move or remove.
func TestArchitectureDrawingMatchesImports(t *testing.T) {
	for _, problem := range checkDrawing(readDrawing(t), internalImports(t)) {
		t.Error(problem)
	}
}

// checkDrawing returns what is wrong with drawn (top to bottom) given each
// package's internal imports, each problem saying what to change.
func checkDrawing(drawn []drawnPackage, imports map[string][]string) []string {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	pos := map[string]int{} // package → index in drawn
	for i, d := range drawn {
		if j, dup := pos[d.name]; dup {
			errorf("architecture.md:%d: %s is drawn twice (also line %d): keep one line", d.line, d.name, drawn[j].line)
			continue
		}
		pos[d.name] = i
	}
	importers := map[string][]string{}
	for p, imps := range imports {
		for _, q := range imps {
			importers[q] = append(importers[q], p)
		}
	}
	// place says where p's line may go: below every drawn package that
	// imports it and above every drawn package it imports.
	place := func(p string) string {
		lo, hi := -1, len(drawn)
		for _, q := range importers[p] {
			if i, ok := pos[q]; ok && q != p {
				lo = max(lo, i)
			}
		}
		for _, q := range imports[p] {
			if i, ok := pos[q]; ok && q != p {
				hi = min(hi, i)
			}
		}
		var below, above string
		if lo >= 0 {
			below = fmt.Sprintf("below %s (line %d, the lowest package that imports it)", drawn[lo].name, drawn[lo].line)
		}
		if hi < len(drawn) {
			above = fmt.Sprintf("above %s (line %d, the highest package it imports)", drawn[hi].name, drawn[hi].line)
		}
		switch {
		case lo >= hi:
			return fmt.Sprintf("no line fits: it must be %s and %s, so one of those imports has to go (or those packages move)", below, above)
		case below != "" && above != "":
			return "put it " + below + " and " + above
		case below != "":
			return "put it " + below
		case above != "":
			return "put it " + above
		}
		return "put it anywhere: nothing in internal/ imports it and it imports nothing in internal/"
	}

	for _, d := range drawn {
		if _, ok := imports[d.name]; !ok {
			errorf("architecture.md:%d draws %s, but internal/%s has no Go files: remove the line, or rename it if the package moved", d.line, d.name, d.name)
		}
	}
	for _, p := range slices.Sorted(mapsKeys(imports)) {
		i, ok := pos[p]
		if !ok {
			errorf("internal/%s has no line in the drawing of docs/architecture.md (## The house): add \"            %s  <what it does>\"; %s", p, p, place(p))
			continue
		}
		for _, q := range imports[p] {
			j, ok := pos[q]
			if !ok || j > i {
				continue
			}
			errorf("internal/%s (architecture.md:%d) imports internal/%s, drawn above it (line %d): dependencies point down the page. "+
				"Either drop the import, or move a line: for %s, %s; for %s, %s",
				p, drawn[i].line, q, drawn[j].line, q, place(q), p, place(p))
		}
	}
	return problems
}

func mapsKeys(m map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestCheckDrawing: the checker finds each kind of mistake and says where
// the line goes.
func TestCheckDrawing(t *testing.T) {
	drawn := func(names ...string) []drawnPackage {
		var out []drawnPackage
		for i, n := range names {
			out = append(out, drawnPackage{name: n, line: 10 + i})
		}
		return out
	}
	tests := []struct {
		name    string
		drawn   []drawnPackage
		imports map[string][]string
		want    []string // substrings, one per problem, in order
	}{
		{"consistent", drawn("app", "deploy", "store"),
			map[string][]string{"app": {"deploy", "store"}, "deploy": {"store"}, "store": nil}, nil},
		{"import points up", drawn("store", "deploy"),
			map[string][]string{"deploy": {"store"}, "store": nil},
			[]string{"internal/deploy (architecture.md:11) imports internal/store, drawn above it (line 10)"}},
		{"missing package, placed between importer and import", drawn("app", "store"),
			map[string][]string{"app": {"replay"}, "replay": {"store"}, "store": nil},
			[]string{`internal/replay has no line in the drawing of docs/architecture.md (## The house): add "            replay  <what it does>"; put it below app (line 10, the lowest package that imports it) and above store (line 11, the highest package it imports)`}},
		{"gone package", drawn("app", "server"),
			map[string][]string{"app": nil},
			[]string{"architecture.md:11 draws server, but internal/server has no Go files"}},
		{"drawn twice", drawn("app", "app"),
			map[string][]string{"app": nil},
			[]string{"architecture.md:11: app is drawn twice (also line 10)"}},
		{"no line fits", drawn("top", "bottom"),
			map[string][]string{"top": nil, "bottom": {"x"}, "x": {"top"}},
			[]string{"internal/x has no line in the drawing of docs/architecture.md (## The house): add \"            x  <what it does>\"; no line fits: it must be below bottom (line 11, the lowest package that imports it) and above top (line 10, the highest package it imports)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkDrawing(tt.drawn, tt.imports)
			if len(got) != len(tt.want) {
				t.Fatalf("problems:\n%s\nwant %d", strings.Join(got, "\n"), len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d:\n%s\nwant it to contain\n%s", i, got[i], w)
				}
			}
		})
	}
}
