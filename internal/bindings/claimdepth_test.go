package bindings

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// TestClaimDepthBounded: a claim may nest MaxJSONDepth levels; one level
// more is refused where it is set, with a TypeError the workflow can
// catch, instead of making a Result the sandbox cannot carry.
func TestClaimDepthBounded(t *testing.T) {
	nested := func(n int) string {
		return fmt.Sprintf(`let v = 1; for (let i = 0; i < %d; i++) v = [v]; kinde.accessToken.setCustomClaim("deep", v)`, n)
	}
	for _, c := range []struct {
		name  string
		depth int
		ok    bool
	}{
		{"at the bound", MaxJSONDepth, true},
		{"one past", MaxJSONDepth + 1, false},
		{"12,000 deep (24 KB)", 12000, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t, &Config{Settings: declare(workflow.UserTokenGeneration, workflow.BindAccessToken)})
			_, err := s.vm.RunString(nested(c.depth))
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if _, set := s.inv.claims[workflow.BindAccessToken].tok.CustomClaims["deep"]; !set {
					t.Fatal("the claim was not set")
				}
				return
			}
			ex, isEx := err.(*goja.Exception)
			if !isEx {
				t.Fatalf("want a JS exception, got %v", err)
			}
			if be := s.inv.BindingError(ex.Value()); be == nil || be.Kind != ErrBadArgument {
				t.Fatalf("BindingError = %+v, want %s", be, ErrBadArgument)
			}
			if msg := ex.Value().String(); !strings.Contains(msg, "TypeError") || !strings.Contains(msg, fmt.Sprint(MaxJSONDepth)) {
				t.Fatalf("message %q does not say the bound", msg)
			}
			if _, set := s.inv.claims[workflow.BindAccessToken].tok.CustomClaims["deep"]; set {
				t.Fatal("a refused claim was set")
			}
		})
	}
}
