package e2e

import (
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/project"
)

// TestLibraryBindingNotAvailable: a helper whose binding is not declared
// fails with the library's own message; the check warned about it first.
func TestLibraryBindingNotAvailable(t *testing.T) {
	r := checkRepo(t, "errors")
	warned := map[string]bool{}
	for _, d := range r.report.Diagnostics {
		if d.Rule == project.RuleUndeclaredBinding {
			warned[d.File] = true
		}
	}
	cases := []struct{ id, file, event, want string }{
		{"undeclared", "kindeSrc/environment/workflows/m2mWorkflow.ts", `{}`,
			"Error: env binding not available, please add to workflow/page settings to enable"},
		{"noAuth", "kindeSrc/environment/workflows/postAuthWorkflow.ts", `{}`,
			"Error: auth binding not available"},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			if !warned[c.file] {
				t.Errorf("no %s warning for %s", project.RuleUndeclaredBinding, c.file)
			}
			res := r.run(t, c.id, c.event, &bindings.Config{Env: map[string]bindings.EnvVar{"TIER": {Value: "gold"}}})
			// The library's message, then how to declare the binding (issue 7.5).
			if res.Status != "failed" || res.Error == nil || !strings.HasPrefix(res.Error.Message, c.want) ||
				!strings.Contains(res.Error.Message, "to workflowSettings.bindings") {
				t.Fatalf("result %s, want the error %q", asJSON(t, res), c.want)
			}
			if !strings.Contains(res.Error.Stack, c.file+":") {
				t.Errorf("stack does not name %s:\n%s", c.file, res.Error.Stack)
			}
		})
	}
}

// TestSourceMappedErrors: errors thrown in the workflow file and in a
// helper it imports are reported at their lines in the original .ts files.
func TestSourceMappedErrors(t *testing.T) {
	r := checkRepo(t, "errors")
	cases := []struct {
		name, event, message string
		frames               []string
	}{
		{"in the workflow", `{"context": {"fail": "here"}}`, "RangeError: thrown in the workflow file",
			[]string{"kindeSrc/environment/workflows/tokensWorkflow.ts:14:11"}},
		{"in an imported helper", `{"context": {}}`, "Error: the user has no organization",
			[]string{"kindeSrc/lib/check.ts:4:11", "kindeSrc/environment/workflows/tokensWorkflow.ts:17:16"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := r.run(t, "throws", c.event, nil)
			if res.Status != "failed" || res.Error == nil || res.Error.Message != c.message {
				t.Fatalf("result %s", asJSON(t, res))
			}
			for _, f := range c.frames {
				if !strings.Contains(res.Error.Stack, "("+f+")") {
					t.Errorf("stack does not name %s:\n%s", f, res.Error.Stack)
				}
			}
			if strings.Contains(res.Error.Stack, "bundle.js") {
				t.Errorf("stack has unmapped bundle positions:\n%s", res.Error.Stack)
			}
		})
	}
}
