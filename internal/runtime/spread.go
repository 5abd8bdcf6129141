package runtime

import (
	"reflect"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
)

// Object spread ({...s}) and object rest ({...r} = s) copy one property
// per element of s in a single compiled instruction: no builtin guard sees
// it and the run's interrupt cannot land inside it, so spreading a 16M
// character string ran for over a minute. The bundle is rewritten once,
// at load: each such source goes through spreadGuardName first, which
// bounds its length like any array-like handed to a builtin. The
// identifier cannot be written in source, so a workflow cannot shadow it.
const spreadGuardName = "%spreadSource"

// compileGuarded is goja.Compile (strict) with every object spread and
// rest source guarded, for code run on a guarded runtime (the global must
// exist); its errors are goja.Compile's.
func compileGuarded(name, src string) (*goja.Program, error) {
	tree, err := goja.Parse(name, src)
	if err != nil {
		return nil, err
	}
	guardSpreads(tree)
	return goja.CompileAST(tree, true)
}

// guardSpreads rewrites prg in place (positions kept: the call carries
// the original expression's offsets).
func guardSpreads(prg *ast.Program) {
	walkAST(reflect.ValueOf(prg))
}

var astPkg = reflect.TypeOf(ast.Program{}).PkgPath()

func walkAST(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			walkAST(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkAST(v.Index(i))
		}
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct || v.Elem().Type().PkgPath() != astPkg {
			return
		}
		switch n := v.Interface().(type) {
		case *ast.ObjectLiteral:
			for _, p := range n.Value {
				if s, ok := p.(*ast.SpreadElement); ok {
					s.Expression = spreadCall(s.Expression)
				}
			}
		case *ast.Binding:
			if hasRest(n.Target) && n.Initializer != nil {
				n.Initializer = spreadCall(n.Initializer)
			}
		case *ast.AssignExpression:
			if hasRest(n.Left) {
				n.Right = spreadCall(n.Right)
			}
		}
		s := v.Elem()
		for i := 0; i < s.NumField(); i++ {
			if s.Type().Field(i).IsExported() {
				walkAST(s.Field(i))
			}
		}
	}
}

// hasRest reports whether a destructuring target is an object pattern
// with a rest element ({a, ...r}).
func hasRest(t any) bool {
	p, ok := t.(*ast.ObjectPattern)
	return ok && p.Rest != nil
}

func spreadCall(e ast.Expression) ast.Expression {
	at := e.Idx0()
	return &ast.CallExpression{
		Callee:          &ast.Identifier{Name: spreadGuardName, Idx: at},
		LeftParenthesis: at, ArgumentList: []ast.Expression{e}, RightParenthesis: file.Idx(max(int(e.Idx1())-1, int(at))),
	}
}

// maxSpreadSource bounds the length of a string or array spread into an
// object: goja copies one property per element natively, ~10 µs each on a
// busy machine, so 16Ki elements take ~0.15 s before the interrupt can
// land. An ordinary object's properties were each set by interruptible
// code, so its copy costs no more than making it did: left unbounded.
const maxSpreadSource = 1 << 14

// spreadSource is the guard: its argument, unchanged, unless it is a
// string (or String object) or an array longer than maxSpreadSource.
// Other objects' length is not read (it could run a getter).
func (g *guards) spreadSource(c goja.FunctionCall) goja.Value {
	v := c.Argument(0)
	var n int64
	switch x := v.(type) {
	case *goja.Object:
		if cl := x.ClassName(); cl == "String" || cl == "Array" {
			n = x.Get("length").ToInteger()
		}
	case goja.String:
		n = int64(x.Length())
	}
	if n > maxSpreadSource {
		g.over("the length of a string or array spread into an object", float64(n), maxSpreadSource)
	}
	return v
}
