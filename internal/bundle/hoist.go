package bundle

import (
	"bytes"
	"regexp"
	"slices"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// A workflow is bundled as an ES module first: esbuild then scope-hoists
// every ES module into plain top-level code and ends the bundle with one
// `export { local as name, ... };` clause. hoist turns that clause into a
// single module.exports assignment, so the bundle runs in the runtime's
// CommonJS wrapper without esbuild's CommonJS interop (an exports object
// of getters built by __export and __toCommonJS on every invocation).
//
// Everything before the clause keeps its bytes, so the source map stays
// right once its lines past the clause are dropped. Anything hoist cannot
// rewrite with certainty is left to the CommonJS build (ok false).

// exportClause is the clause esbuild writes last in an ES module bundle.
var exportClause = regexp.MustCompile(`\nexport \{\n((?:  [A-Za-z_$][\w$]*(?: as [A-Za-z_$][\w$]*)?,\n)*  [A-Za-z_$][\w$]*(?: as [A-Za-z_$][\w$]*)?)\n\};\n?$`)

// exportItem is one `local` or `local as name` of the clause.
var exportItem = regexp.MustCompile(`^  ([A-Za-z_$][\w$]*)(?: as ([A-Za-z_$][\w$]*))?,?$`)

// hoist rewrites an ES module bundle (code, its source map, and the export
// names esbuild's metafile lists for it) into a script that assigns
// module.exports.
func hoist(code, sourceMap []byte, names []string) (outCode, outMap []byte, ok bool) {
	body, assign := code, ""
	if len(names) > 0 {
		loc := exportClause.FindSubmatchIndex(code)
		if loc == nil {
			return nil, nil, false
		}
		body = code[:loc[0]+1]
		var fields, seen []string
		for _, line := range strings.Split(string(code[loc[2]:loc[3]]), "\n") {
			m := exportItem.FindStringSubmatch(line)
			if m == nil {
				return nil, nil, false
			}
			local, name := m[1], m[2]
			if name == "" {
				name = local
			}
			if name == "__proto__" { // an object literal would set the prototype
				return nil, nil, false
			}
			seen = append(seen, name)
			fields = append(fields, name+": "+local)
		}
		slices.Sort(seen)
		want := slices.Sorted(slices.Values(names))
		if !slices.Equal(seen, want) {
			return nil, nil, false
		}
		assign = "module.exports = { " + strings.Join(fields, ", ") + " };\n"
	}
	// esbuild leaves an `export * from` a CommonJS module in the entry to
	// run time (__reExport); an ES module bundle would drop those names.
	if bytes.Contains(body, []byte("__reExport(")) {
		return nil, nil, false
	}
	if !plainScript(body) {
		return nil, nil, false
	}
	mapped, ok := keepLines(sourceMap, bytes.Count(body, []byte("\n")))
	if !ok {
		return nil, nil, false
	}
	out := make([]byte, 0, len(body)+len(assign))
	out = append(append(out, body...), assign...)
	return out, mapped, true
}

// plainScript reports whether body parses as a script (no import or
// export statement, no import.meta left) that declares no top-level
// `module` of its own, which the appended assignment would then reach.
// In an ES module bundle esbuild does not rename a top-level `module`.
func plainScript(body []byte) bool {
	prog, err := parser.ParseFile(nil, "", string(body), 0)
	if err != nil {
		return false
	}
	declares := false
	for _, d := range prog.DeclarationList { // every var, at any depth
		for _, b := range d.List {
			declares = declares || binds(b.Target, "module")
		}
	}
	for _, st := range prog.Body {
		switch s := st.(type) {
		case *ast.LexicalDeclaration:
			for _, b := range s.List {
				declares = declares || binds(b.Target, "module")
			}
		case *ast.FunctionDeclaration:
			declares = declares || s.Function.Name != nil && s.Function.Name.Name == "module"
		case *ast.ClassDeclaration:
			declares = declares || s.Class.Name != nil && s.Class.Name.Name == "module"
		}
	}
	return !declares
}

// binds reports whether the binding target declares name.
func binds(target ast.Expression, name string) bool {
	switch t := target.(type) {
	case *ast.Identifier:
		return t.Name.String() == name
	case *ast.AssignExpression: // a pattern element with a default
		return binds(t.Left, name)
	case *ast.ArrayPattern:
		for _, e := range t.Elements {
			if e != nil && binds(e, name) {
				return true
			}
		}
		return t.Rest != nil && binds(t.Rest, name)
	case *ast.ObjectPattern:
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				if p.Name.Name.String() == name {
					return true
				}
			case *ast.PropertyKeyed:
				if binds(p.Value, name) {
					return true
				}
			}
		}
		return t.Rest != nil && binds(t.Rest, name)
	}
	return false
}

// keepLines drops the source map's mappings for generated lines from n on
// (the export clause). Each line's segments are separated by ';' and
// start their columns afresh, so the first n lines keep their meaning.
func keepLines(sourceMap []byte, n int) ([]byte, bool) {
	const key = `"mappings": "`
	i := bytes.Index(sourceMap, []byte(key))
	if i < 0 || bytes.Count(sourceMap, []byte(key)) != 1 {
		return nil, false
	}
	start := i + len(key)
	end := bytes.IndexByte(sourceMap[start:], '"')
	if end < 0 {
		return nil, false
	}
	end += start
	lines := bytes.Split(sourceMap[start:end], []byte(";"))
	if len(lines) > n {
		lines = lines[:n]
	}
	out := make([]byte, 0, len(sourceMap))
	out = append(out, sourceMap[:start]...)
	out = append(out, bytes.Join(lines, []byte(";"))...)
	return append(out, sourceMap[end:]...), true
}
