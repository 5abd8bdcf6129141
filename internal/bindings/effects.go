package bindings

import (
	"math"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// kinde.auth: denyAccess records the denial; code continues.
func (inv *Invocation) denyAccess(call goja.FunctionCall) goja.Value {
	reason := inv.optStringArg(call, 0, "kinde.auth.denyAccess", "reason")
	inv.res.Auth = &workflow.Auth{Denied: true, Reason: inv.redactOutput("kinde.auth.denyAccess reason", reason)}
	return goja.Undefined()
}

// kinde.env: get and its documented alias getEnvironmentVariable return
// {value, isSecret} or undefined.
func (inv *Invocation) envGet(call goja.FunctionCall) goja.Value {
	key := inv.stringArg(call, 0, "kinde.env.get", "key")
	e, ok := inv.cfg.Env[key]
	if !ok {
		return goja.Undefined()
	}
	if e.Unreadable != "" {
		inv.throwError(ErrUnavailable, "kinde.env.get(%q): %s", key, e.Unreadable)
	}
	o := inv.vm.NewObject()
	o.Set("value", e.Value)
	o.Set("isSecret", e.IsSecret)
	return o
}

// kinde.mfa.setEnforcementPolicy.
func (inv *Invocation) setEnforcementPolicy(call goja.FunctionCall) goja.Value {
	const fn = "kinde.mfa.setEnforcementPolicy"
	p := inv.stringArg(call, 0, fn, "policy")
	if p != "required" && p != "skip" {
		inv.throwType(`%s: policy must be "required" or "skip", got %q`, fn, p)
	}
	inv.res.MFA = &workflow.MFA{EnforcementPolicy: p}
	return goja.Undefined()
}

func (inv *Invocation) plan() *workflow.Plan {
	if inv.res.Plan == nil {
		inv.res.Plan = &workflow.Plan{}
	}
	return inv.res.Plan
}

// kinde.plan.denySelection.
func (inv *Invocation) denySelection(call goja.FunctionCall) goja.Value {
	const fn = "kinde.plan.denySelection"
	msg := inv.stringArg(call, 0, fn, "message")
	reasons := []string{}
	if v := call.Argument(1); !goja.IsUndefined(v) && !goja.IsNull(v) {
		o, ok := v.(*goja.Object)
		if !ok || o.ClassName() != "Array" {
			inv.throwType("%s: reasons must be an array of strings, got %s", fn, typeOf(v))
		}
		for _, k := range o.Keys() {
			s, ok := str(get(o, k))
			if !ok {
				inv.throwType("%s: reasons[%s] must be a string, got %s", fn, k, typeOf(get(o, k)))
			}
			reasons = append(reasons, inv.redactOutput(fn+" reason", s))
		}
	}
	inv.plan().DenySelection = &workflow.DenySelection{Message: inv.redactOutput(fn+" message", msg), Reasons: reasons}
	return goja.Undefined()
}

// kinde.plan.denyCancellation.
func (inv *Invocation) denyCancellation(call goja.FunctionCall) goja.Value {
	reason := inv.stringArg(call, 0, "kinde.plan.denyCancellation", "reason")
	inv.plan().DenyCancellation = &workflow.DenyCancellation{Reason: inv.redactOutput("kinde.plan.denyCancellation reason", reason)}
	return goja.Undefined()
}

// kinde.widget.invalidateFormField.
func (inv *Invocation) invalidateFormField(call goja.FunctionCall) goja.Value {
	const fn = "kinde.widget.invalidateFormField"
	field := inv.stringArg(call, 0, fn, "fieldName")
	msg := inv.stringArg(call, 1, fn, "message")
	if field == "" {
		inv.throwType("%s: fieldName must not be empty", fn)
	}
	if r := inv.redactOutput(fn+" fieldName", field); r != field {
		inv.throwType("%s: a field name may not hold a secret value or password", fn)
	}
	if inv.res.Widget == nil {
		inv.res.Widget = &workflow.Widget{InvalidFormFields: map[string]string{}}
	}
	inv.res.Widget.InvalidFormFields[field] = inv.redactOutput(fn+" message", msg)
	return goja.Undefined()
}

// kinde.localization.get returns the string for key, or "" when there is none.
func (inv *Invocation) localizationGet(call goja.FunctionCall) goja.Value {
	key := inv.stringArg(call, 0, "kinde.localization.get", "key")
	return inv.vm.ToValue(inv.cfg.Localization[key])
}

// kinde.risk (legacy): a finite score the host reads back.
func (inv *Invocation) setScore(call goja.FunctionCall) goja.Value {
	v := call.Argument(0)
	n, ok := 0.0, goja.IsNumber(v)
	if ok {
		n = v.ToFloat()
	}
	if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
		inv.throwType("kinde.risk.setScore: score must be a finite number, got %s", typeOf(v))
	}
	inv.res.Risk = &workflow.Risk{Score: n}
	return goja.Undefined()
}

func (inv *Invocation) getScore(goja.FunctionCall) goja.Value {
	if inv.res.Risk == nil {
		return inv.vm.ToValue(0)
	}
	return inv.vm.ToValue(inv.res.Risk.Score)
}

// kinde.ssoSession.setPolicy.
func (inv *Invocation) setSSOPolicy(call goja.FunctionCall) goja.Value {
	const fn = "kinde.ssoSession.setPolicy"
	p := inv.stringArg(call, 0, fn, "policy")
	if p != "persistent" && p != "non_persistent" {
		inv.throwType(`%s: policy must be "persistent" or "non_persistent", got %q`, fn, p)
	}
	inv.res.SSOSession = &workflow.SSOSession{Policy: p}
	return goja.Undefined()
}
