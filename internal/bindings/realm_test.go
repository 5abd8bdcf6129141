package bindings

import (
	"context"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// The realm's methods are shared by a runtime's invocations: each must act
// on the invocation that is running, and none may carry state over.
func TestRealmMethodsActOnCurrentInvocation(t *testing.T) {
	vm := goja.New()
	if err := InstallGlobals(vm); err != nil {
		t.Fatal(err)
	}
	realm, err := NewRealm(vm)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken, workflow.BindConsole)}
	run := func(js string) (*workflow.Result, error) {
		res := &workflow.Result{}
		inv := realm.New(context.Background(), cfg, res)
		fn, err := vm.RunString(`(function (kinde, console) { "use strict"; ` + js + ` })`)
		if err != nil {
			t.Fatal(err)
		}
		call, _ := goja.AssertFunction(fn)
		_, err = call(goja.Undefined(), inv.Kinde(), inv.Console())
		return res, err
	}
	r1, err := run(`kinde.accessToken.setCustomClaim("a", 1); console.log("one");
		try { kinde.accessToken.setCustomClaim.x = 1 } catch (e) {}
		try { console.log.y = 1 } catch (e) {}
		console.log = () => {}; kinde.accessToken.extra = 1`)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := run(`if (kinde.accessToken.setCustomClaim.x !== undefined || console.log.y !== undefined ||
			kinde.accessToken.extra !== undefined) throw new Error("state leaked");
		if (JSON.stringify(kinde.accessToken.getCustomClaims()) !== "{}") throw new Error("claims leaked");
		kinde.accessToken.setCustomClaim("b", 2); console.log("two")`)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.AccessToken.CustomClaims) != 1 || r1.AccessToken.CustomClaims["a"] != float64(1) || logText(r1) != "info: one\n" {
		t.Errorf("first run: claims %v logs %q", r1.AccessToken.CustomClaims, logText(r1))
	}
	if len(r2.AccessToken.CustomClaims) != 1 || r2.AccessToken.CustomClaims["b"] != float64(2) || logText(r2) != "info: two\n" {
		t.Errorf("second run: claims %v logs %q", r2.AccessToken.CustomClaims, logText(r2))
	}
	if n := vm.ToValue(realm.console[0]).ToObject(vm).Get("name").String(); n != "log" {
		t.Errorf("console.log.name = %q", n)
	}
}
