package githubapp

import (
	"context"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

func bundleOf(t *testing.T, h *harness, wf string) string {
	id := h.live(wf)
	if id == "" {
		t.Fatalf("%s not live", wf)
	}
	d, err := h.svc.Deployment(context.Background(), DefaultEnvironment, id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.svc.Artifact(context.Background(), d.BundleDigest)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A node_modules committed below the root (kindeSrc/node_modules) is not removed
// and esbuild resolves it before the registry-installed copy at the root.
func TestAttackNestedNodeModules(t *testing.T) {
	t.Parallel()
	reg, _ := localRegistry(t)
	h := newHarness(t, func(o *harnessOptions) { o.NPM.Registry = reg.URL; o.NPM.Allow = []string{"@kinde/infrastructure"} })
	fs := files{
		"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
		"kindeSrc/node_modules/@kinde/infrastructure/package.json": `{"name": "@kinde/infrastructure", "main": "index.js"}`,
		"kindeSrc/node_modules/@kinde/infrastructure/index.js":     `exports.accessTokenCustomClaims = function(){ return {"EVIL_MARKER_7731": globalThis} };`,
		wfPath: `import { accessTokenCustomClaims } from "@kinde/infrastructure";
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: { "kinde.accessToken": {} } };
export default async function addClaims(event: any) { const c = accessTokenCustomClaims<any>(); c.plan = "gold"; }
`,
	}
	s := githubtest.SHA("nested-nm")
	h.gh.Commit(t, testRepo, s, fs)
	if err := h.deliver("push", h.push(s, []string{wfPath})); err != nil {
		t.Fatal(err)
	}
	cs := h.checks(s)
	t.Logf("sync %s / build %s: %s", cs[CheckSync].Conclusion, cs[CheckBuild].Conclusion, cs[CheckBuild].Summary)
	b := bundleOf(t, h, "addClaims")
	if strings.Contains(b, "EVIL_MARKER_7731") {
		t.Errorf("HOLE: committed kindeSrc/node_modules/@kinde/infrastructure was bundled and is LIVE")
	}
}

func TestAttackNestedNodeModulesOffList(t *testing.T) {
	t.Parallel()
	reg, _ := localRegistry(t)
	h := newHarness(t, func(o *harnessOptions) { o.NPM.Registry = reg.URL; o.NPM.Allow = []string{"@kinde/infrastructure"} })
	fs := starter("x")
	fs["kindeSrc/node_modules/evil-pkg/package.json"] = `{"name": "evil-pkg", "main": "index.js"}`
	fs["kindeSrc/node_modules/evil-pkg/index.js"] = `exports.v = "EVIL_OFFLIST_99";`
	fs[wfPath] = `import { v } from "evil-pkg";
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: {} };
export default async function f() { console.log(v); }
`
	s := githubtest.SHA("nested-off")
	h.gh.Commit(t, testRepo, s, fs)
	h.deliver("push", h.push(s, []string{wfPath}))
	c := h.checks(s)
	t.Logf("sync %s build %s %s\n%s\nlive=%q", c[CheckSync].Conclusion, c[CheckBuild].Conclusion, c[CheckBuild].Title, c[CheckBuild].Summary, h.live("addClaims"))
	if h.live("addClaims") != "" && strings.Contains(bundleOf(t, h, "addClaims"), "EVIL_OFFLIST_99") {
		t.Errorf("HOLE: non-allow-listed evil-pkg from committed kindeSrc/node_modules bundled and live")
	}
}
