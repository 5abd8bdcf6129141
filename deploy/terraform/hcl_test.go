package terraform_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// module is a Terraform module parsed with the HCL native syntax parser: no
// provider schemas, no evaluation beyond literals, just the text's structure.
type module struct {
	src    map[string][]byte // file name -> content
	blocks []*block          // top-level blocks of every file
}

// block is an HCL block and the file it came from (for error messages and source text).
type block struct {
	*hclsyntax.Block
	file string
	src  []byte
}

// readModule reads every *.tf file of dir.
func readModule(dir string) (map[string][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", dir)
	}
	srcs := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		srcs[filepath.Base(p)] = b
	}
	return srcs, nil
}

// parseModule parses the sources; any syntax error fails the whole module.
func parseModule(srcs map[string][]byte) (*module, error) {
	m := &module{src: srcs}
	names := make([]string, 0, len(srcs))
	for name := range srcs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, diags := hclsyntax.ParseConfig(srcs[name], name, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %s", name, diags.Error())
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			return nil, fmt.Errorf("parse %s: not native HCL syntax", name)
		}
		for _, b := range body.Blocks {
			m.blocks = append(m.blocks, &block{Block: b, file: name, src: srcs[name]})
		}
	}
	return m, nil
}

// all returns the top-level blocks of type typ (e.g. "resource") whose first
// label is kind ("" for any).
func (m *module) all(typ, kind string) []*block {
	var out []*block
	for _, b := range m.blocks {
		if b.Type != typ {
			continue
		}
		if kind != "" && (len(b.Labels) == 0 || b.Labels[0] != kind) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// one returns the block typ "kind" "name", or nil.
func (m *module) one(typ, kind, name string) *block {
	for _, b := range m.all(typ, kind) {
		if len(b.Labels) == 2 && b.Labels[1] == name {
			return b
		}
	}
	return nil
}

// byRef resolves a reference such as aws_iam_role.task.arn or
// data.aws_iam_policy_document.task.json to the block it names.
func (m *module) byRef(ref string) *block {
	parts := strings.Split(ref, ".")
	if len(parts) >= 3 && parts[0] == "data" {
		return m.one("data", parts[1], parts[2])
	}
	if len(parts) >= 2 {
		return m.one("resource", parts[0], parts[1])
	}
	return nil
}

// locals merges every locals block's attributes.
func (m *module) locals() map[string]*hclsyntax.Attribute {
	out := map[string]*hclsyntax.Attribute{}
	for _, b := range m.all("locals", "") {
		for name, a := range b.Body.Attributes {
			out[name] = a
		}
	}
	return out
}

func (b *block) name() string {
	return b.Type + " " + strings.Join(b.Labels, ".") + " (" + b.file + ")"
}

func (b *block) attr(name string) *hclsyntax.Attribute {
	return b.Body.Attributes[name]
}

// children returns the nested blocks of type typ.
func (b *block) children(typ string) []*block {
	var out []*block
	for _, c := range b.Body.Blocks {
		if c.Type == typ {
			out = append(out, &block{Block: c, file: b.file, src: b.src})
		}
	}
	return out
}

// child returns the first nested block of type typ, or nil.
func (b *block) child(typ string) *block {
	if cs := b.children(typ); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// text is the source text of an expression, spaces trimmed.
func (b *block) text(e hclsyntax.Expression) string {
	r := e.Range()
	return strings.TrimSpace(string(b.src[r.Start.Byte:r.End.Byte]))
}

// literal evaluates an expression that needs no variables or functions.
func literal(e hclsyntax.Expression) (cty.Value, bool) {
	if e == nil {
		return cty.NilVal, false
	}
	if len(e.Variables()) > 0 {
		return cty.NilVal, false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return cty.NilVal, false
	}
	return v, true
}

// attrString is the literal string value of attribute name, or "".
func (b *block) attrString(name string) string {
	a := b.attr(name)
	if a == nil {
		return ""
	}
	v, ok := literal(a.Expr)
	if !ok || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// attrBool reports the literal bool value of attribute name; ok is false when
// it is absent or not a literal.
func (b *block) attrBool(name string) (value, ok bool) {
	a := b.attr(name)
	if a == nil {
		return false, false
	}
	v, lit := literal(a.Expr)
	if !lit || v.Type() != cty.Bool {
		return false, false
	}
	return v.True(), true
}

// attrStrings is the literal list of strings of attribute name.
func (b *block) attrStrings(name string) []string {
	a := b.attr(name)
	if a == nil {
		return nil
	}
	v, ok := literal(a.Expr)
	if !ok || !(v.Type().IsTupleType() || v.Type().IsListType()) {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.Type() == cty.String {
			out = append(out, ev.AsString())
		}
	}
	return out
}

// refs lists the references an expression makes, as dotted names without
// index steps: aws_kms_key.main.arn, var.name, local.app_secrets.
func refs(e hclsyntax.Expression) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, t := range e.Variables() {
		parts := []string{t.RootName()}
		for _, step := range t[1:] {
			if a, ok := step.(hcl.TraverseAttr); ok {
				parts = append(parts, a.Name)
			}
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}

// refersTo reports whether the expression references something starting with prefix.
func refersTo(e hclsyntax.Expression, prefix string) bool {
	for _, r := range refs(e) {
		if r == prefix || strings.HasPrefix(r, prefix+".") {
			return true
		}
	}
	return false
}

// onlyRefersTo reports whether every reference of e starts with one of the prefixes
// (and there is at least one reference).
func onlyRefersTo(e hclsyntax.Expression, prefixes ...string) bool {
	rs := refs(e)
	if len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		ok := false
		for _, p := range prefixes {
			if r == p || strings.HasPrefix(r, p+".") {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// keyName is the name of an object constructor key: a bare word or a string.
func keyName(e hclsyntax.Expression) string {
	if kw := hcl.ExprAsKeyword(e); kw != "" {
		return kw
	}
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		e = k.Wrapped
	}
	if v, ok := literal(e); ok && v.Type() == cty.String {
		return v.AsString()
	}
	return ""
}

// item returns the value of key in an object constructor, or nil.
func item(obj *hclsyntax.ObjectConsExpr, key string) hclsyntax.Expression {
	for _, it := range obj.Items {
		if keyName(it.KeyExpr) == key {
			return it.ValueExpr
		}
	}
	return nil
}

// unwrap removes parentheses and template wrappers around an expression.
func unwrap(e hclsyntax.Expression) hclsyntax.Expression {
	for {
		switch x := e.(type) {
		case *hclsyntax.ParenthesesExpr:
			e = x.Expression
		case *hclsyntax.TemplateWrapExpr:
			e = x.Wrapped
		default:
			return e
		}
	}
}

// policyStatement is one statement of a data "aws_iam_policy_document".
type policyStatement struct {
	doc        *block
	sid        string
	effect     string
	actions    []string
	resources  []hclsyntax.Expression // each element of the resources list, or the whole list when it is not a literal tuple
	principals []*block
	conditions []*block
}

// statements lists the statements of a policy document block.
func statements(doc *block) []policyStatement {
	var out []policyStatement
	for _, s := range doc.children("statement") {
		st := policyStatement{doc: s, sid: s.attrString("sid"), effect: s.attrString("effect")}
		if st.effect == "" {
			st.effect = "Allow" // the data source's default
		}
		st.actions = s.attrStrings("actions")
		if a := s.attr("resources"); a != nil {
			if tup, ok := unwrap(a.Expr).(*hclsyntax.TupleConsExpr); ok {
				st.resources = tup.Exprs
			} else {
				st.resources = []hclsyntax.Expression{a.Expr}
			}
		}
		st.principals = s.children("principals")
		st.conditions = s.children("condition")
		out = append(out, st)
	}
	return out
}

// policyOf resolves a policy attribute (data.aws_iam_policy_document.X.json) to its document block.
func (m *module) policyOf(b *block, attr string) *block {
	a := b.attr(attr)
	if a == nil {
		return nil
	}
	for _, r := range refs(a.Expr) {
		if strings.HasPrefix(r, "data.aws_iam_policy_document.") {
			return m.byRef(r)
		}
	}
	return nil
}
