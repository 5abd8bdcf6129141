package runtime

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/workflow"
)

func settings() workflow.Settings {
	return workflow.Settings{ID: "wf", Trigger: workflow.UserTokenGeneration,
		Bindings: map[string]workflow.BindingSettings{workflow.BindAccessToken: {}, workflow.BindConsole: {}}}
}

// testLimits keep the adversarial tests quick.
func testLimits() Limits {
	return Limits{WallTime: 300 * time.Millisecond, MemoryBytes: 64 << 20}
}

func load(t *testing.T, e *Engine, code string) *Program {
	t.Helper()
	p, err := e.Load([]byte(code), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

// handler makes a CommonJS bundle whose default export runs body.
func handler(body string) string {
	return "module.exports = { default: async function (event) {\n" + body + "\n} };"
}

func run(t *testing.T, e *Engine, p *Program, event string) *workflow.Result {
	t.Helper()
	return e.Run(context.Background(), Invocation{Program: p, Settings: settings(), Event: []byte(event)})
}

func wantFailed(t *testing.T, r *workflow.Result, substr string) {
	t.Helper()
	if r.Status != workflow.StatusFailed || r.Error == nil {
		t.Fatalf("status %q error %+v; want failed with %q", r.Status, r.Error, substr)
	}
	if !strings.Contains(r.Error.Message, substr) {
		t.Fatalf("error %q; want it to contain %q", r.Error.Message, substr)
	}
}

func wantSucceeded(t *testing.T, r *workflow.Result) {
	t.Helper()
	if r.Status != workflow.StatusSucceeded {
		t.Fatalf("status %q error %+v; want succeeded", r.Status, r.Error)
	}
}

// claim reads one access-token claim.
func claim(r *workflow.Result, name string) any {
	if r.AccessToken == nil {
		return nil
	}
	return r.AccessToken.CustomClaims[name]
}
