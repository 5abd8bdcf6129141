package project

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sync"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	jstoken "github.com/dop251/goja/token"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/srcmap"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The undefined-name check works on the bundle, not on the TypeScript
// source: esbuild has already erased every type, so a name that is only a
// type (an interface, a type alias, an `import type`) is gone from the
// bundle's declarations but still there where it is used as a value. A
// reference the bundle never declares and the sandbox does not define
// throws ReferenceError when its line runs; the bundle's source map points
// it back at the user's file.

// sandboxExtras are the globals the Flowgate sandbox adds to goja's
// ECMAScript intrinsics: the bindings' objects, the URL classes, and the
// CommonJS wrapper's names. kinde and console are always present.
var sandboxExtras = []string{"kinde", "console", "URL", "URLSearchParams", "module", "exports", "require", "arguments"}

// sandboxGlobals is every global name a workflow may use without declaring
// it. goja's intrinsics are read from a fresh runtime, once.
var sandboxGlobals = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, n := range sandboxExtras {
		names[n] = true
	}
	vm := goja.New()
	v, err := vm.RunString(`Object.getOwnPropertyNames(globalThis)`)
	if err == nil {
		var list []string
		if vm.ExportTo(v, &list) == nil {
			for _, n := range list {
				names[n] = true
			}
		}
	}
	return names
})

// scope is one function (or the program). Block scopes are folded into
// their function: that can only hide a mistake, never invent one.
type scope struct {
	declared map[string]bool
	refs     []ref    // references made directly in this scope
	children []*scope // the functions and classes inside it
}

func (s *scope) declare(name string) { s.declared[name] = true }

func (s *scope) child() *scope {
	c := &scope{declared: map[string]bool{}}
	s.children = append(s.children, c)
	return c
}

// ref is an identifier read or written in an expression.
type ref struct {
	name string
	idx  int // goja file.Idx
}

// freeNames walks a parsed program into its tree of scopes. It stops at
// once when ctx ends (checked every checkEvery nodes).
type freeNames struct {
	ctx   context.Context
	nodes int
	err   error
	// guarded are the names the program asks about with typeof X: code
	// that checks whether X exists (typeof process !== "undefined") knows
	// it may not, so its uses of X are not reported.
	guarded map[string]bool
}

const checkEvery = 4096

var (
	typeofOp   = jstoken.TYPEOF
	idxType    = reflect.TypeFor[file.Idx]()
	identPtr   = reflect.TypeFor[*ast.Identifier]()
	identValue = reflect.TypeFor[ast.Identifier]()
)

// unresolved parses code and returns the references that are not declared
// anywhere in scope, in source order.
func unresolved(code []byte) ([]ref, *ast.Program, error) {
	return unresolvedCtx(context.Background(), code)
}

// unresolvedCtx is unresolved, stopping with ctx's error when it ends.
// Its cost is linear in the program: every scope's declarations are
// counted in while it is open, so each reference is one map lookup,
// whatever the nesting and however many distinct names there are.
func unresolvedCtx(ctx context.Context, code []byte) ([]ref, *ast.Program, error) {
	b, err := parseBundle(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	return b.unresolved, b.prog, nil
}

// bundleNames is what one parse of a bundle gives the analysis: the
// references no scope declares (undefined-name), and every reference
// (where code the bundle kept came from, for undeclared-binding).
type bundleNames struct {
	prog       *ast.Program
	unresolved []ref
	all        []ref
}

// parseBundle parses code with goja, the parser the sandbox runs it with,
// and sorts its references; it stops with ctx's error when ctx ends.
func parseBundle(ctx context.Context, code []byte) (*bundleNames, error) {
	prog, err := parser.ParseFile(nil, "bundle.js", string(code), 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, err
	}
	f := &freeNames{ctx: ctx, guarded: map[string]bool{}}
	top := &scope{declared: map[string]bool{}}
	for _, st := range prog.Body {
		f.walk(reflect.ValueOf(st), top)
	}
	if f.err != nil {
		return nil, f.err
	}
	var out, all []ref
	open := map[string]int{}
	type frame struct {
		s    *scope
		next int
	}
	enter := func(s *scope) {
		for n := range s.declared {
			open[n]++
		}
		for _, r := range s.refs {
			if open[r.name] == 0 && !f.guarded[r.name] {
				out = append(out, r)
			}
		}
		all = append(all, s.refs...)
	}
	enter(top)
	stack := []frame{{s: top}}
	for len(stack) > 0 {
		fr := &stack[len(stack)-1]
		if fr.next < len(fr.s.children) {
			c := fr.s.children[fr.next]
			fr.next++
			enter(c)
			stack = append(stack, frame{s: c})
			continue
		}
		for n := range fr.s.declared {
			open[n]--
		}
		stack = stack[:len(stack)-1]
	}
	byIdx := func(a, b ref) int { return cmp.Compare(a.idx, b.idx) }
	slices.SortStableFunc(out, byIdx)
	slices.SortStableFunc(all, byIdx)
	return &bundleNames{prog: prog, unresolved: out, all: all}, nil
}

// walk visits an AST value in scope s. Nodes that bind names or hold
// identifiers that are not references are handled explicitly; every other
// node is walked field by field.
func (f *freeNames) walk(v reflect.Value, s *scope) {
	if !v.IsValid() || f.err != nil {
		return
	}
	if f.nodes++; f.nodes%checkEvery == 0 {
		if f.err = f.ctx.Err(); f.err != nil {
			return
		}
	}
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return
	}
	if v.Kind() == reflect.Pointer && v.Type() != identPtr {
		if f.node(v.Interface(), s) {
			return
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == identPtr:
		id := v.Interface().(*ast.Identifier)
		s.refs = append(s.refs, ref{name: id.Name.String(), idx: int(id.Idx)})
		return
	case v.Type() == identValue:
		id := v.Interface().(ast.Identifier)
		s.refs = append(s.refs, ref{name: id.Name.String(), idx: int(id.Idx)})
		return
	}
	switch v.Kind() {
	case reflect.Slice:
		for i := range v.Len() {
			f.walk(v.Index(i), s)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			if t.Field(i).Name == "DeclarationList" || t.Field(i).Type == idxType {
				continue // duplicates of declarations in the body; positions
			}
			f.walk(v.Field(i), s)
		}
	}
}

// node handles the nodes walk must not treat generically; it reports
// whether it did.
func (f *freeNames) node(n any, s *scope) bool {
	switch n := n.(type) {
	case *ast.DotExpression:
		f.walk(reflect.ValueOf(n.Left), s) // the property name is not a reference
	case *ast.PrivateDotExpression:
		f.walk(reflect.ValueOf(n.Left), s)
	case *ast.MetaProperty, *ast.BranchStatement:
		// new.target, import.meta; break/continue labels
	case *ast.LabelledStatement:
		f.walk(reflect.ValueOf(n.Statement), s)
	case *ast.PropertyKeyed:
		if n.Computed {
			f.walk(reflect.ValueOf(n.Key), s)
		}
		f.walk(reflect.ValueOf(n.Value), s)
	case *ast.FieldDefinition:
		if n.Computed {
			f.walk(reflect.ValueOf(n.Key), s)
		}
		f.walk(reflect.ValueOf(n.Initializer), s)
	case *ast.MethodDefinition:
		if n.Computed {
			f.walk(reflect.ValueOf(n.Key), s)
		}
		f.walk(reflect.ValueOf(n.Body), s)
	case *ast.UnaryExpression:
		if id, ok := n.Operand.(*ast.Identifier); ok && n.Operator == typeofOp {
			f.guarded[id.Name.String()] = true
			return true // typeof x is how code asks whether a global exists
		}
		f.walk(reflect.ValueOf(n.Operand), s)
	case *ast.FunctionDeclaration:
		if n.Function != nil && n.Function.Name != nil {
			s.declare(n.Function.Name.Name.String())
		}
		f.walk(reflect.ValueOf(n.Function), s)
	case *ast.ClassDeclaration:
		if n.Class != nil && n.Class.Name != nil {
			s.declare(n.Class.Name.Name.String())
		}
		f.walk(reflect.ValueOf(n.Class), s)
	case *ast.FunctionLiteral:
		inner := s.child()
		if n.Name != nil {
			inner.declare(n.Name.Name.String())
		}
		f.walk(reflect.ValueOf(n.ParameterList), inner)
		f.walk(reflect.ValueOf(n.Body), inner)
	case *ast.ArrowFunctionLiteral:
		inner := s.child()
		f.walk(reflect.ValueOf(n.ParameterList), inner)
		f.walk(reflect.ValueOf(n.Body), inner)
	case *ast.ClassLiteral:
		inner := s.child()
		if n.Name != nil {
			inner.declare(n.Name.Name.String())
		}
		f.walk(reflect.ValueOf(n.SuperClass), s)
		f.walk(reflect.ValueOf(n.Body), inner)
	case *ast.ParameterList:
		for _, b := range n.List {
			f.walk(reflect.ValueOf(b), s)
		}
		f.target(n.Rest, s)
	case *ast.Binding:
		f.target(n.Target, s)
		f.walk(reflect.ValueOf(n.Initializer), s)
	case *ast.CatchStatement:
		f.target(n.Parameter, s)
		f.walk(reflect.ValueOf(n.Body), s)
	case *ast.ForDeclaration:
		f.target(n.Target, s)
	default:
		return false
	}
	return true
}

// target declares the names a binding pattern binds in s, and walks the
// expressions inside it (defaults, computed keys).
func (f *freeNames) target(t ast.Node, s *scope) {
	switch t := t.(type) {
	case nil:
	case *ast.Identifier:
		if t != nil {
			s.declare(t.Name.String())
		}
	case *ast.ObjectPattern:
		if t == nil {
			return
		}
		for _, p := range t.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				s.declare(p.Name.Name.String())
				f.walk(reflect.ValueOf(p.Initializer), s)
			case *ast.PropertyKeyed:
				if p.Computed {
					f.walk(reflect.ValueOf(p.Key), s)
				}
				f.target(p.Value, s)
			default:
				f.target(p, s)
			}
		}
		f.target(t.Rest, s)
	case *ast.ArrayPattern:
		if t == nil {
			return
		}
		for _, e := range t.Elements {
			f.target(e, s)
		}
		f.target(t.Rest, s)
	case *ast.AssignExpression: // a default: [a = 1]
		f.target(t.Left, s)
		f.walk(reflect.ValueOf(t.Right), s)
	case *ast.SpreadElement:
		f.target(t.Expression, s)
	default:
		// A member expression as an assignment target (only in
		// for-in/of and plain assignments): its parts are references.
		f.walk(reflect.ValueOf(t), s)
	}
}

// typeDecls match TypeScript declarations that produce no value: a type,
// an interface, a type-only import, or an ambient `declare`.
var (
	typeDecl     = regexp.MustCompile(`\b(?:type|interface)\s+([A-Za-z_$][\w$]*)|\bdeclare\s+(?:const|let|var|function|class|enum|namespace|module)\s+([A-Za-z_$][\w$]*)`)
	typeImport   = regexp.MustCompile(`\bimport\s+type\s[^;]*`)
	identifierRe = regexp.MustCompile(`[A-Za-z_$][\w$]*`)
)

// typeNames lists the names src declares only as types, in one pass.
func typeNames(src []byte) map[string]bool {
	names := map[string]bool{}
	for _, m := range typeDecl.FindAllSubmatch(src, -1) {
		names[string(m[1])+string(m[2])] = true
	}
	for _, m := range typeImport.FindAll(src, -1) {
		for _, id := range identifierRe.FindAll(m, -1) {
			names[string(id)] = true
		}
	}
	return names
}

// undefinedNames reports, once per file and name, the first use of a name
// the workflow's own code neither declares nor imports and the sandbox does
// not define. sources are the workflow's own files with their text. It
// costs time linear in the bundle and the sources, and returns nothing
// when ctx ends first.
func undefinedNames(ctx context.Context, w *Workflow, sources map[string][]byte, b *bundleNames) []diag.Diagnostic {
	if b == nil || len(b.unresolved) == 0 {
		return nil
	}
	refs, prog := b.unresolved, b.prog
	sm, err := srcmap.Parse(w.File, w.Bundle.SourceMap)
	if err != nil {
		return nil
	}
	globals := sandboxGlobals()
	seen := map[string]bool{}
	types := map[string]map[string]bool{}
	var ds []diag.Diagnostic
	for i, r := range refs {
		if i%checkEvery == 0 && ctx.Err() != nil {
			return nil
		}
		if globals[r.name] {
			continue
		}
		p := prog.File.Position(r.idx - prog.File.Base())
		orig, ok := sm.Original(p.Line, p.Column)
		if !ok {
			continue
		}
		src, own := sources[orig.File]
		if !own || seen[orig.File+"\x00"+r.name] {
			continue
		}
		seen[orig.File+"\x00"+r.name] = true
		if types[orig.File] == nil {
			types[orig.File] = typeNames(src)
		}
		ds = append(ds, diag.New(RuleUndefinedName, orig.File, orig.Line, orig.Column, "%s", undefinedMessage(r.name, types[orig.File])))
	}
	return ds
}

// undefinedMessage says why name is undefined at run time and what to do;
// types are the names its file declares only as types.
func undefinedMessage(name string, types map[string]bool) string {
	const throws = " (this line throws ReferenceError when it runs)"
	switch {
	case name == "fetch":
		return `fetch is not defined in the workflow sandbox` + throws + `: call kinde.fetch and declare "kinde.fetch": {} in workflowSettings.bindings, or import { fetch } from "@kinde/infrastructure"`
	case name == "process":
		return `process is not defined in the workflow sandbox` + throws + `: for process.env.NAME, declare "kinde.env": {} and read kinde.env.get("NAME")?.value, or call getEnvironmentVariable("NAME") from "@kinde/infrastructure"`
	case types[name]:
		return name + " is only a TypeScript type or declaration here, and those are erased when the workflow is built, so it has no value at run time" + throws + ": use a value, such as a const object or an enum"
	}
	if workflow.HelperBindings(name) != nil || infrastructureValues[name] {
		return fmt.Sprintf("%s is not imported%s: add it to the import from %q, as in import { %s } from %q", name, throws, infrastructure, name, infrastructure)
	}
	if s := suggest(name, sandboxExtras, 2); s != "" && s != name {
		return fmt.Sprintf("%s is neither declared, imported nor a sandbox global%s: did you mean %s?", name, throws, s)
	}
	return fmt.Sprintf("%s is neither declared, imported nor a sandbox global%s: declare it or import it", name, throws)
}

// infrastructureValues are the @kinde/infrastructure exports that are
// values but call no binding (workflow.BindingSpecs lists the others).
var infrastructureValues = map[string]bool{
	"PromptTypes": true, "Scopes": true, "WorkflowTrigger": true, "getDarkModeLogoUrl": true,
	"getFallbackFaviconUrl": true, "getKindeCSRF": true, "getKindeLoginUrl": true, "getKindeNonce": true,
	"getKindeRegisterUrl": true, "getKindeRequiredCSS": true, "getKindeRequiredJS": true,
	"getKindeSignInUrl": true, "getKindeSignUpUrl": true, "getKindeThemeCode": true, "getKindeWidget": true,
	"getLogoUrl": true, "getSVGFaviconUrl": true, "setKindeDesignerCustomProperties": true, "version": true,
}
