package workflow

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/flowgate/flowgate/internal/testenv"
)

// TestTriggersMatchInfrastructure: TriggerSpecs' members, names and enum
// positions are those of the WorkflowTrigger enum of the real
// @kinde/infrastructure (testdata/npm).
func TestTriggersMatchInfrastructure(t *testing.T) {
	types := filepath.Join(testenv.NodeModules(t), "@kinde", "infrastructure", "dist", "types.d.ts")
	src, err := os.ReadFile(types)
	if err != nil {
		t.Fatal(err)
	}
	enum := regexp.MustCompile(`(?s)enum WorkflowTrigger \{(.*?)\}`).FindSubmatch(src)
	if enum == nil {
		t.Fatalf("%s has no WorkflowTrigger enum", types)
	}
	members := regexp.MustCompile(`(\w+) = "([^"]+)"`).FindAllSubmatch(enum[1], -1)
	if len(members) != len(TriggerSpecs) {
		t.Errorf("the library has %d triggers, TriggerSpecs %d", len(members), len(TriggerSpecs))
	}
	for i, m := range members {
		tr, ok := TriggerByMember(string(m[1]))
		switch {
		case !ok:
			t.Errorf("WorkflowTrigger.%s (%q) is not in TriggerSpecs", m[1], m[2])
		case tr.Name != string(m[2]) || tr.Enum != i:
			t.Errorf("WorkflowTrigger.%s = %q at %d; TriggerSpecs has %q at %d", m[1], m[2], i, tr.Name, tr.Enum)
		}
	}
}
