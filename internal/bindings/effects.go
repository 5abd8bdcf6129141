package bindings

import (
	"math"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

type fnMap = map[string]func(goja.FunctionCall) goja.Value

// authObject is kinde.auth: denyAccess records the denial; code continues.
func (inv *Invocation) authObject() *goja.Object {
	return inv.methods(fnMap{
		"denyAccess": func(call goja.FunctionCall) goja.Value {
			reason := inv.optStringArg(call, 0, "kinde.auth.denyAccess", "reason")
			inv.res.Auth = &workflow.Auth{Denied: true, Reason: reason}
			return goja.Undefined()
		},
	})
}

// envObject is kinde.env: get and its documented alias
// getEnvironmentVariable return {value, isSecret} or undefined.
func (inv *Invocation) envObject() *goja.Object {
	get := func(call goja.FunctionCall) goja.Value {
		key := inv.stringArg(call, 0, "kinde.env.get", "key")
		e, ok := inv.cfg.Env[key]
		if !ok {
			return goja.Undefined()
		}
		o := inv.vm.NewObject()
		o.Set("value", e.Value)
		o.Set("isSecret", e.IsSecret)
		return o
	}
	return inv.methods(fnMap{"get": get, "getEnvironmentVariable": get})
}

// mfaObject is kinde.mfa.
func (inv *Invocation) mfaObject() *goja.Object {
	return inv.methods(fnMap{
		"setEnforcementPolicy": func(call goja.FunctionCall) goja.Value {
			const fn = "kinde.mfa.setEnforcementPolicy"
			p := inv.stringArg(call, 0, fn, "policy")
			if p != "required" && p != "skip" {
				inv.throwType(`%s: policy must be "required" or "skip", got %q`, fn, p)
			}
			inv.res.MFA = &workflow.MFA{EnforcementPolicy: p}
			return goja.Undefined()
		},
	})
}

// planObject is kinde.plan.
func (inv *Invocation) planObject() *goja.Object {
	plan := func() *workflow.Plan {
		if inv.res.Plan == nil {
			inv.res.Plan = &workflow.Plan{}
		}
		return inv.res.Plan
	}
	return inv.methods(fnMap{
		"denySelection": func(call goja.FunctionCall) goja.Value {
			const fn = "kinde.plan.denySelection"
			msg := inv.stringArg(call, 0, fn, "message")
			reasons := []string{}
			if v := call.Argument(1); !goja.IsUndefined(v) && !goja.IsNull(v) {
				o, ok := v.(*goja.Object)
				if !ok || o.ClassName() != "Array" {
					inv.throwType("%s: reasons must be an array of strings, got %s", fn, typeOf(v))
				}
				for _, k := range o.Keys() {
					s, ok := o.Get(k).Export().(string)
					if !ok {
						inv.throwType("%s: reasons[%s] must be a string, got %s", fn, k, typeOf(o.Get(k)))
					}
					reasons = append(reasons, s)
				}
			}
			plan().DenySelection = &workflow.DenySelection{Message: msg, Reasons: reasons}
			return goja.Undefined()
		},
		"denyCancellation": func(call goja.FunctionCall) goja.Value {
			reason := inv.stringArg(call, 0, "kinde.plan.denyCancellation", "reason")
			plan().DenyCancellation = &workflow.DenyCancellation{Reason: reason}
			return goja.Undefined()
		},
	})
}

// widgetObject is kinde.widget.
func (inv *Invocation) widgetObject() *goja.Object {
	return inv.methods(fnMap{
		"invalidateFormField": func(call goja.FunctionCall) goja.Value {
			const fn = "kinde.widget.invalidateFormField"
			field := inv.stringArg(call, 0, fn, "fieldName")
			msg := inv.stringArg(call, 1, fn, "message")
			if field == "" {
				inv.throwType("%s: fieldName must not be empty", fn)
			}
			if inv.res.Widget == nil {
				inv.res.Widget = &workflow.Widget{InvalidFormFields: map[string]string{}}
			}
			inv.res.Widget.InvalidFormFields[field] = msg
			return goja.Undefined()
		},
	})
}

// localizationObject is kinde.localization: get returns the string for
// key, or "" when there is none.
func (inv *Invocation) localizationObject() *goja.Object {
	return inv.methods(fnMap{
		"get": func(call goja.FunctionCall) goja.Value {
			key := inv.stringArg(call, 0, "kinde.localization.get", "key")
			return inv.vm.ToValue(inv.cfg.Localization[key])
		},
	})
}

// riskObject is kinde.risk (legacy): a finite score the host reads back.
func (inv *Invocation) riskObject() *goja.Object {
	return inv.methods(fnMap{
		"setScore": func(call goja.FunctionCall) goja.Value {
			v := call.Argument(0)
			n, ok := v.Export().(float64)
			if i, isInt := v.Export().(int64); isInt {
				n, ok = float64(i), true
			}
			if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
				inv.throwType("kinde.risk.setScore: score must be a finite number, got %s", typeOf(v))
			}
			inv.res.Risk = &workflow.Risk{Score: n}
			return goja.Undefined()
		},
		"getScore": func(goja.FunctionCall) goja.Value {
			if inv.res.Risk == nil {
				return inv.vm.ToValue(0)
			}
			return inv.vm.ToValue(inv.res.Risk.Score)
		},
	})
}

// ssoSessionObject is kinde.ssoSession.
func (inv *Invocation) ssoSessionObject() *goja.Object {
	return inv.methods(fnMap{
		"setPolicy": func(call goja.FunctionCall) goja.Value {
			const fn = "kinde.ssoSession.setPolicy"
			p := inv.stringArg(call, 0, fn, "policy")
			if p != "persistent" && p != "non_persistent" {
				inv.throwType(`%s: policy must be "persistent" or "non_persistent", got %q`, fn, p)
			}
			inv.res.SSOSession = &workflow.SSOSession{Policy: p}
			return goja.Undefined()
		},
	})
}
