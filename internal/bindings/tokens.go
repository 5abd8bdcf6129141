package bindings

import (
	"encoding/json"
	"slices"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// MaxClaimBytes caps the JSON size of all custom claims set on one token.
const MaxClaimBytes = 64 << 10

// Prohibited claims per token (docs/coming-from-kinde.md): the platform owns them.
var (
	commonProhibited  = []string{"azp", "exp", "iat", "iss", "nbf", "sid", "sub", "act", "aud"}
	prohibitedByToken = map[string][]string{
		workflow.BindIDToken:     append(slices.Clone(commonProhibited), "auth_time", "jti", "updated_at", "rat"),
		workflow.BindAccessToken: append(slices.Clone(commonProhibited), "jti", "scp"),
		workflow.BindM2MToken:    append(slices.Clone(commonProhibited), "gty", "jti", "scp"),
	}
)

// Prohibited reports whether claim may not be set on the token binding.
func Prohibited(binding, claim string) bool {
	return slices.Contains(prohibitedByToken[binding], claim)
}

func newToken(bs workflow.BindingSettings) *workflow.Token {
	return &workflow.Token{CustomClaims: map[string]any{}, ResetClaims: bs.ResetClaims}
}

// claimState is one token binding's claims in one invocation.
type claimState struct {
	tok   *workflow.Token
	sizes map[string]int
	total int
}

// tokenObject is kinde.accessToken / idToken / m2mToken.
func (inv *Invocation) tokenObject(binding string, tok *workflow.Token) *goja.Object {
	if inv.claims == nil {
		inv.claims = map[string]*claimState{}
	}
	inv.claims[binding] = &claimState{tok: tok, sizes: map[string]int{}}
	o := inv.vm.NewObject()
	if fns, ok := inv.realm.tokenMethods(binding); ok {
		o.Set("setCustomClaim", fns[0])
		o.Set("getCustomClaims", fns[1])
		return o
	}
	set, err := hostFunc(inv.vm, "setCustomClaim", func(call goja.FunctionCall) goja.Value { return inv.setCustomClaim(binding, call) })
	if err != nil {
		panic(err)
	}
	get, err := hostFunc(inv.vm, "getCustomClaims", func(goja.FunctionCall) goja.Value { return inv.getCustomClaims(binding) })
	if err != nil {
		panic(err)
	}
	o.Set("setCustomClaim", set)
	o.Set("getCustomClaims", get)
	return o
}

func (r *Realm) tokenMethods(binding string) ([2]goja.Value, bool) {
	if r == nil {
		return [2]goja.Value{}, false
	}
	fns, ok := r.tokens[binding]
	return fns, ok
}

// setClaimNames are "<binding>.setCustomClaim" per binding, made once: the
// name labels errors and redaction warnings, and a call should not build it.
var setClaimNames = func() map[string]string {
	m := map[string]string{}
	for _, b := range workflow.Bindings {
		m[b] = b + ".setCustomClaim"
	}
	return m
}()

func (inv *Invocation) setCustomClaim(binding string, call goja.FunctionCall) goja.Value {
	fn, ok := setClaimNames[binding]
	if !ok {
		fn = binding + ".setCustomClaim"
	}
	st := inv.claims[binding]
	if st == nil { // the binding is not declared in this invocation
		inv.fail(ErrUnavailable, "TypeError", "%s: %s is not available", fn, binding)
	}
	name := inv.stringArg(call, 0, fn, "name")
	if name == "" {
		inv.throwType("%s: name must not be empty", fn)
	}
	// The labels are built only when there is something to redact.
	if inv.redacting() {
		if r := inv.redactOutput(fn+" claim name", name); r != name {
			inv.throwType("%s: a claim name may not hold a secret value or password", fn)
		}
	}
	if Prohibited(binding, name) {
		inv.log("warn", fn+": claim \""+name+"\" is reserved by the platform and was not set")
		return goja.Undefined()
	}
	// Measured in Go, not through the realm's guarded JSON.stringify:
	// the walk stops at the token's remaining room.
	room := MaxClaimBytes - (st.total - st.sizes[name]) - len(name)
	w := jsonWalker{inv: inv, max: room}
	value, ok := w.value("", call.Argument(1))
	if w.over {
		inv.throwError(ErrBadArgument, "%s: claim %q would make this token's custom claims larger than %d bytes", fn, name, MaxClaimBytes)
	}
	if !ok { // undefined or a function: like JSON, the claim goes away
		st.total -= st.sizes[name]
		delete(st.sizes, name)
		delete(st.tok.CustomClaims, name)
		return goja.Undefined()
	}
	size := len(name) + w.size
	st.total += size - st.sizes[name]
	st.sizes[name] = size
	if inv.redacting() {
		value = inv.redactValue(fn+" claim \""+name+"\"", value)
	}
	st.tok.CustomClaims[name] = value
	return goja.Undefined()
}

func (inv *Invocation) getCustomClaims(binding string) goja.Value {
	st := inv.claims[binding]
	if st == nil {
		inv.fail(ErrUnavailable, "TypeError", "%s.getCustomClaims: %s is not available", binding, binding)
	}
	if len(st.tok.CustomClaims) == 0 {
		// What JSON.parse("{}") makes, without the encoding round trip
		// (the common case: a workflow reads the claims before setting any).
		return inv.vm.NewObject()
	}
	b, _ := json.Marshal(st.tok.CustomClaims)
	v, _ := inv.parseJSON(string(b))
	return v
}
