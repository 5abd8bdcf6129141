package bindings

import (
	"encoding/json"
	"slices"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// MaxClaimBytes caps the JSON size of all custom claims set on one token.
const MaxClaimBytes = 64 << 10

// Prohibited claims per token (kinde-compat.md §4): the platform owns them.
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

// tokenObject is kinde.accessToken / idToken / m2mToken.
func (inv *Invocation) tokenObject(binding string, tok *workflow.Token) *goja.Object {
	fn := binding + ".setCustomClaim"
	sizes := map[string]int{}
	total := 0
	return inv.methods(map[string]func(goja.FunctionCall) goja.Value{
		"setCustomClaim": func(call goja.FunctionCall) goja.Value {
			name := inv.stringArg(call, 0, fn, "name")
			if name == "" {
				inv.throwType("%s: name must not be empty", fn)
			}
			if Prohibited(binding, name) {
				inv.log("warn", fn+": claim \""+name+"\" is reserved by the platform and was not set")
				return goja.Undefined()
			}
			// Measured in Go, not through the realm's guarded JSON.stringify:
			// the walk stops at the token's remaining room.
			room := MaxClaimBytes - (total - sizes[name]) - len(name)
			w := jsonWalker{inv: inv, max: room}
			value, ok := w.value("", call.Argument(1))
			if w.over {
				inv.throwError("%s: claim %q would make this token's custom claims larger than %d bytes", fn, name, MaxClaimBytes)
			}
			if !ok { // undefined or a function: like JSON, the claim goes away
				total -= sizes[name]
				delete(sizes, name)
				delete(tok.CustomClaims, name)
				return goja.Undefined()
			}
			size := len(name) + w.size
			total += size - sizes[name]
			sizes[name] = size
			tok.CustomClaims[name] = value
			return goja.Undefined()
		},
		"getCustomClaims": func(goja.FunctionCall) goja.Value {
			b, _ := json.Marshal(tok.CustomClaims)
			v, _ := inv.parseJSON(string(b))
			return v
		},
	})
}
