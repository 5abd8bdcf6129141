package bindings

import (
	"context"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// BenchmarkInvocationSetup is the per-request cost of New + Kinde +
// Console for a typical token workflow.
func BenchmarkInvocationSetup(b *testing.B) {
	vm := goja.New()
	if err := InstallGlobals(vm); err != nil {
		b.Fatal(err)
	}
	cfg := &Config{Settings: declare(workflow.UserTokenGeneration,
		workflow.BindAccessToken, workflow.BindIDToken, workflow.BindEnv, workflow.BindFetch, workflow.BindURL)}
	for b.Loop() {
		inv := New(context.Background(), vm, cfg, &workflow.Result{})
		inv.Kinde()
		inv.Console()
	}
}

// BenchmarkInvocationSetupRealm is the same with the runtime's prebuilt
// method set (what the pooled runtime uses).
func BenchmarkInvocationSetupRealm(b *testing.B) {
	vm := goja.New()
	if err := InstallGlobals(vm); err != nil {
		b.Fatal(err)
	}
	realm, err := NewRealm(vm)
	if err != nil {
		b.Fatal(err)
	}
	cfg := &Config{Settings: declare(workflow.UserTokenGeneration,
		workflow.BindAccessToken, workflow.BindIDToken, workflow.BindEnv, workflow.BindFetch, workflow.BindURL)}
	for b.Loop() {
		inv := realm.New(context.Background(), cfg, &workflow.Result{})
		inv.Kinde()
		inv.Console()
	}
}
