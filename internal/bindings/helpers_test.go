package bindings

import (
	"context"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// sandbox is one real goja runtime with the globals installed and one
// invocation's kinde and console set as globals.
type sandbox struct {
	vm  *goja.Runtime
	inv *Invocation
	res *workflow.Result
}

func newSandbox(t testing.TB, cfg *Config) *sandbox {
	t.Helper()
	vm := goja.New()
	if err := InstallGlobals(vm); err != nil {
		t.Fatal(err)
	}
	res := &workflow.Result{}
	inv := New(context.Background(), vm, cfg, res)
	vm.Set("kinde", inv.Kinde())
	vm.Set("console", inv.Console())
	return &sandbox{vm: vm, inv: inv, res: res}
}

// run evaluates js and returns its value exported, or the thrown error's text.
func (s *sandbox) run(js string) (any, string) {
	v, err := s.vm.RunString(js)
	if err != nil {
		if ex, ok := err.(*goja.Exception); ok {
			return nil, ex.Value().String()
		}
		return nil, err.Error()
	}
	return v.Export(), ""
}

func (s *sandbox) mustRun(t testing.TB, js string) any {
	t.Helper()
	v, errText := s.run(js)
	if errText != "" {
		t.Fatalf("%s\nthrew: %s", js, errText)
	}
	return v
}

// declare builds settings for trigger declaring the given bindings.
func declare(trigger string, names ...string) workflow.Settings {
	s := workflow.Settings{ID: "wf", Trigger: trigger, Bindings: map[string]workflow.BindingSettings{}}
	for _, n := range names {
		s.Bindings[n] = workflow.BindingSettings{}
	}
	return s
}

func logText(res *workflow.Result) string {
	var b strings.Builder
	for _, l := range res.Logs {
		b.WriteString(l.Level + ": " + l.Message + "\n")
	}
	return b.String()
}
