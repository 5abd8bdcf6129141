package githubapp

import (
	"fmt"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/flowgate/flowgate/internal/workflow"
)

// tenWorkflows is a repository of ten workflows (one per trigger: a
// trigger runs one workflow), each importing @kinde/infrastructure, and
// changed with label.
func tenWorkflows(label string) (files, []string) {
	fs := files{"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`}
	var changed []string
	for i := range 10 {
		p := fmt.Sprintf("kindeSrc/environment/workflows/w%02d/w%02dWorkflow.ts", i, i)
		fs[p] = fmt.Sprintf(`import { accessTokenCustomClaims } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "w%02d",
  trigger: %q,
  bindings: {},
};

export default async function w%02d(event: any) {
  console.log(%q, typeof accessTokenCustomClaims);
}
`, i, workflow.Triggers[i], i, label)
		changed = append(changed, p)
	}
	return fs, changed
}

// BenchmarkPushToGreenChecks is one push of ten changed workflows through
// the App to green check runs: fetch from the local GitHub, install the
// package from a warm cache, bundle, check, deploy, report.
//
//	go test ./internal/githubapp -run '^$' -bench PushToGreenChecks -benchtime 10x
func BenchmarkPushToGreenChecks(b *testing.B) {
	reg, tarballs := localRegistry(b)
	h := newHarness(b, func(o *harnessOptions) {
		o.NPM.Registry = reg.URL
		o.NPM.Allow = []string{"@kinde/infrastructure"}
	})
	push := func(label string) {
		fs, changed := tenWorkflows(label)
		s := githubtest.SHA(label)
		h.gh.Commit(b, testRepo, s, fs)
		if err := h.deliver("push", h.push(s, changed)); err != nil {
			b.Fatal(err)
		}
		cs := h.checks(s)
		if cs[CheckSync].Conclusion != "success" || cs[CheckBuild].Conclusion != "success" {
			b.Fatalf("push %s: sync %s %s / build %s %s", label, cs[CheckSync].Conclusion, cs[CheckSync].Summary,
				cs[CheckBuild].Conclusion, cs[CheckBuild].Summary)
		}
	}
	push("warm-up") // fills the package cache
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		push(fmt.Sprintf("bench-%d", i))
	}
	b.StopTimer()
	for i := range 10 {
		if h.live(fmt.Sprintf("w%02d", i)) == "" {
			b.Fatalf("w%02d is not live", i)
		}
	}
	if n := tarballs.Load(); n != 1 {
		b.Fatalf("the package was downloaded %d times; the cache was not warm", n)
	}
}
