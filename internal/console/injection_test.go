package console

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// hostile is markup and a javascript: URL in every place repository and
// workflow data reaches a page.
const hostile = `"'><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>javascript:alert(4)`

// TestHostileStringsStayText: workflow names, console lines, invocation
// ids, diagnostics (messages and file paths), commit messages-as-sources
// and variable values from attackers show as text on every page: no
// element, attribute or javascript: link comes out of them.
func TestHostileStringsStayText(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	wf := `export const workflowSettings = { id: "claims", name: ` + "`" + hostile + "`" + `, trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {} } };
export default async function handle(event: any) { console.log(` + "`" + hostile + "`" + `); throw new Error(` + "`" + hostile + "`" + `); }
`
	res, err := h.syncGitHub("4444444444444444444444444444444444444444", map[string]string{claimsFile: wf,
		"kindeSrc/environment/workflows/" + strings.NewReplacer("/", "_", "\"", "", "'", "", "<", "", ">", "").Replace("x"+hostile) + ".ts": "export default function (\n"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	rows := []store.RuntimeLog{
		{InvocationID: hostile, Env: "prod", WorkflowID: "claims", DeploymentID: h.v2, Level: "info", Message: hostile + " *** " + hostile, At: now},
		{InvocationID: hostile, Env: "prod", WorkflowID: "claims", DeploymentID: h.v2, Level: "error", Status: "failed", Message: hostile, At: now, Duration: time.Millisecond},
	}
	if err := h.deploy.AppendRuntimeLogs(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := h.deploy.PutVariable(ctx, "prod", "PLAIN", hostile, false); err != nil {
		t.Fatal(err)
	}

	c := h.client()
	tok := c.mustSignIn()
	pages := []string{"/console/", "/console/env/prod/", "/console/env/prod/workflows/claims", "/console/env/prod/syncs",
		"/console/env/prod/syncs/" + res.Sync.ID, "/console/env/prod/logs", "/console/env/prod/logs?invocation=" + url.QueryEscape(hostile),
		"/console/env/prod/variables", "/console/env/prod/charts", "/console/env/prod/test"}
	for _, d := range res.Deployments {
		pages = append(pages, "/console/env/prod/deployments/"+d.ID)
	}
	bodies := map[string]string{}
	for _, p := range pages {
		_, bodies[p] = c.get(p)
	}
	if len(res.Deployments) > 0 {
		_, bodies["test run"] = c.do("POST", "/console/env/prod/test", url.Values{"_csrf": {tok}, "deployment": {res.Deployments[0].ID},
			"event": {EventTemplate("user:tokens_generation")}})
	}
	live := regexp.MustCompile(`(?i)<script|<img|<svg onload|["']\s*on(error|load)=|(href|src|action)="\s*javascript:`)
	seen := false
	for p, body := range bodies {
		if m := live.FindString(body); m != "" {
			t.Errorf("%s: hostile markup came out live (%q)", p, m)
		}
		if strings.Contains(body, "&lt;script&gt;alert(1)") {
			seen = true
			t.Logf("%s shows the hostile text", p)
		}
	}
	if !seen {
		t.Fatal("the hostile strings reached no page (the test shows nothing)")
	}
}
