package runtime

import (
	"strings"

	"github.com/flowgate/flowgate/internal/workflow"
)

// explainKindeMistakes appends to a failed run's message the fix for two
// mistakes code written for Node makes on Kinde's runtime, whose plain
// goja messages do not say what to do.
func explainKindeMistakes(b Bindings, werr *workflow.Error) {
	msg := werr.Message
	switch {
	case strings.HasPrefix(msg, "ReferenceError: process is not defined"):
		werr.Message += ` (workflows have no process.env: declare "kinde.env": {} and read kinde.env.get("NAME")?.value, ` +
			`or call getEnvironmentVariable("NAME") from "@kinde/infrastructure")`
	case strings.HasPrefix(msg, "TypeError: Not a function: [object Object]") && readFetchJSON(b):
		// goja's message for calling an object; after code read a
		// response's json (its getter ran), almost surely res.json().
		werr.Message += " (a kinde.fetch response's json is the parsed body, not a method: read res.json, without ())"
	}
}

func readFetchJSON(b Bindings) bool {
	r, ok := b.(interface{ ReadFetchJSON() bool })
	return ok && r.ReadFetchJSON()
}
