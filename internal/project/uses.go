package project

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/srcmap"
	"github.com/flowgate/flowgate/internal/workflow"
)

// use is one place in a source file that needs a binding.
type use struct {
	binding string // e.g. "kinde.env"
	via     string // "" for a direct kinde.x, else the @kinde/infrastructure helper called
	off     int
}

// infrastructure is the package whose helpers call the kinde.* bindings.
const infrastructure = "@kinde/infrastructure"

// bindingUses finds the kinde.x member reads and the calls of
// @kinde/infrastructure helpers in one source file. kinde.cache is not a
// declarable binding and is skipped.
func bindingUses(src []byte) []use {
	toks := lex(src)
	var uses []use
	helpers := map[string]string{}         // local name → helper
	namespaces := map[string]bool{}        // import * as ns
	skip := map[int]bool{}                 // token indexes inside import statements
	member := func(i int) (string, bool) { // the identifier after "." or "?." at i
		if i+1 < len(toks) && toks[i].text == "?" && toks[i+1].text == "." {
			i++
		}
		if i+1 < len(toks) && toks[i].kind == tokPunct && toks[i].text == "." && toks[i+1].kind == tokIdent {
			return toks[i+1].text, true
		}
		return "", false
	}
	for i := 0; i < len(toks); i++ {
		if toks[i].kind == tokIdent && toks[i].text == "import" {
			end := parseImport(toks, i, helpers, namespaces)
			for j := i; j < end; j++ {
				skip[j] = true
			}
		}
	}
	for i, t := range toks {
		if t.kind != tokIdent || skip[i] || (i > 0 && toks[i-1].text == ".") {
			continue
		}
		if t.text == "kinde" {
			if x, ok := member(i + 1); ok && x == "cache" {
				// kinde.cache comes with kinde.fetch (or kinde.secureFetch).
				// Only kinde.cache.x throws when it is missing; a test of
				// kinde.cache (or kinde.cache?.x) does not.
				j := i + 2
				if toks[i+1].text == "?" {
					j++
				}
				if j+1 < len(toks) && toks[j+1].kind == tokPunct && toks[j+1].text == "." {
					uses = append(uses, use{binding: workflow.BindFetch, via: "kinde.cache", off: t.off})
				}
			} else if ok && workflow.IsBinding("kinde."+x) {
				uses = append(uses, use{binding: "kinde." + x, off: t.off})
			}
			continue
		}
		helper, ok := helpers[t.text]
		if !ok && namespaces[t.text] {
			helper, _ = member(i + 1)
		}
		for _, b := range workflow.HelperBindings(helper) {
			uses = append(uses, use{binding: b, via: helper, off: t.off})
		}
	}
	return uses
}

// parseImport reads `import … from "@kinde/infrastructure"` starting at
// toks[i] and records the helpers it binds; it returns the index after
// the statement (or i+1 when it is another kind of import).
func parseImport(toks []token, i int, helpers map[string]string, namespaces map[string]bool) int {
	j := i + 1
	for j < len(toks) && j-i < 400 && !(toks[j].kind == tokIdent && toks[j].text == "from") {
		if toks[j].kind == tokString || toks[j].text == ";" {
			return i + 1 // import "x"; or not an import declaration
		}
		j++
	}
	if j+1 >= len(toks) || toks[j+1].kind != tokString {
		return i + 1
	}
	if toks[j+1].text != infrastructure {
		return j + 2
	}
	clause := toks[i+1 : j]
	if len(clause) > 0 && clause[0].text == "type" {
		return j + 2 // import type {…}: erased
	}
	inBraces := false
	for k := 0; k < len(clause); k++ {
		t := clause[k]
		switch {
		case t.text == "{":
			inBraces = true
		case t.text == "}":
			inBraces = false
		case t.text == "*" && k+2 < len(clause) && clause[k+1].text == "as":
			namespaces[clause[k+2].text] = true
			k += 2
		case inBraces && t.kind == tokIdent && t.text == "type" && k+1 < len(clause) && clause[k+1].kind == tokIdent:
			// `type X` inside braces: a type only; skip X (and any "as Y").
			k++
			if k+2 < len(clause) && clause[k+1].text == "as" {
				k += 2
			}
		case inBraces && t.kind == tokIdent:
			local := t.text
			if k+2 < len(clause) && clause[k+1].text == "as" {
				local = clause[k+2].text
				k += 2
			}
			if workflow.HelperBindings(t.text) != nil {
				helpers[local] = t.text
			}
		}
	}
	return j + 2
}

// undeclared reports, once per file and binding, the first use of a
// binding the workflow does not declare. sources are the workflow's own
// bundled files (not node_modules) with their text.
func undeclared(wf *Workflow, sources map[string][]byte, names *bundleNames) []diag.Diagnostic {
	var ds []diag.Diagnostic
	trigger := wf.Settings.Trigger
	kept := bundledLines(wf, names)
	for _, file := range slices.Sorted(maps.Keys(sources)) {
		src := sources[file]
		seen := map[string]bool{}
		for _, u := range bindingUses(src) {
			if seen[u.binding] || wf.Settings.Declares(u.binding) {
				continue
			}
			if u.via == "kinde.cache" && wf.Settings.Declares(workflow.BindSecureFetch) {
				continue
			}
			line, col := position(src, u.off)
			if kept != nil && !kept[fileLine{file, line}] {
				continue // code the bundle left out (a shared module's other functions)
			}
			seen[u.binding] = true
			what := u.binding + " is used here"
			switch {
			case u.via == "kinde.cache":
				what = "kinde.cache is used here (it exists only when kinde.fetch or kinde.secureFetch is declared)"
			case u.via != "":
				what = fmt.Sprintf("%s() uses the %s binding", u.via, u.binding)
			}
			who := "this workflow"
			if file != wf.File {
				who = "the workflow " + path.Base(wf.File)
			}
			var msg string
			if trigger != "" && !workflow.Allowed(trigger, u.binding) {
				msg = fmt.Sprintf("%s, but %s is not available to %s workflows: this call fails when %s runs", what, u.binding, trigger, who)
			} else {
				msg = fmt.Sprintf("%s, but %s does not declare it: add %q: {} to workflowSettings.bindings, or the call fails at run time", what, who, u.binding)
			}
			ds = append(ds, diag.New(RuleUndeclaredBinding, file, line, col, "%s", msg))
		}
	}
	return ds
}

// ownSource reports whether a bundle input is the repository's own
// JavaScript or TypeScript (not an installed package).
func ownSource(p string) bool {
	if strings.Contains("/"+p, "/node_modules/") {
		return false
	}
	switch path.Ext(p) {
	case ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts":
		return true
	}
	return false
}

type fileLine struct {
	file string
	line int
}

// bundledLines are the lines of the original files that the workflow's
// bundle holds code from: the original position of every reference in
// the bundle's goja AST, read through its source map. esbuild leaves out
// what the workflow never imports, so a shared module's other functions
// (and the bindings they use) are not the workflow's. nil when the bundle
// did not parse or the map cannot be read (then every line counts).
func bundledLines(wf *Workflow, names *bundleNames) map[fileLine]bool {
	if names == nil || wf.Bundle == nil || len(wf.Bundle.SourceMap) == 0 {
		return nil
	}
	sm, err := srcmap.Parse(wf.File, wf.Bundle.SourceMap)
	if err != nil {
		return nil
	}
	kept := map[fileLine]bool{}
	f := names.prog.File
	for _, r := range names.all {
		p := f.Position(r.idx - f.Base())
		if o, ok := sm.Original(p.Line, p.Column); ok {
			kept[fileLine{o.File, o.Line}] = true
		}
	}
	return kept
}
