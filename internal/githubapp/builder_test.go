package githubapp

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/builder"
	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// TestMain lets the test binary serve as a builder process.
func TestMain(m *testing.M) {
	builder.MaybeBuilder()
	os.Exit(m.Run())
}

// TestForkPullRequestCannotKillTheService: a fork's pull request (anyone
// can open one on a public repository) once killed the service with a
// 2.3 KB tarball: 2,000,000 [ overflowed the Go stack in the npm import
// scan. With the scan and the check in builder processes, it — and a
// tsconfig extending /dev/zero, and nesting only a builder contains —
// fails its build check with a located diagnostic; the job is not
// retried and nothing goes live.
func TestForkPullRequestCannotKillTheService(t *testing.T) {
	t.Parallel()
	wf := `import { x } from "./hostile";
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation" };
export default async function f() { console.log(x); }`
	cases := []struct {
		name, want string
		fs         files
	}{
		{"2,000,000 [", "nests brackets", files{
			"kindeSrc/environment/workflows/tokens/hostile.ts": "export const x = " + strings.Repeat("[", 2_000_000),
		}},
		{"tsconfig extends /dev/zero", "outside the repository", files{
			"tsconfig.json": `{"extends": "/dev/zero"}`,
			"kindeSrc/environment/workflows/tokens/hostile.ts": "export const x = 1;",
		}},
		// Nesting only a builder contains (type arguments, once here, are
		// now refused by the pre-scan's operator count).
		{"JSX 300,000 deep", "crashed", files{
			"kindeSrc/environment/workflows/tokens/hostile.tsx": "export const x = " + strings.Repeat("<a>;", 300_000) + strings.Repeat("</a>;", 300_000),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := builder.New(builder.Options{})
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, func(o *harnessOptions) { o.Check, o.NPM.ScanImports = b.Check, b.ScanImports })
			c.fs["kinde.json"] = `{"rootDir": "kindeSrc", "version": "2024-12-09"}`
			c.fs[wfPath] = wf
			s := githubtest.SHA(c.name)
			h.gh.Commit(t, testRepo, s, c.fs)
			if err := h.deliver("pull_request", h.pr("opened", s, "mallory/flows")); err != nil {
				t.Fatalf("the job failed (it would be retried): %v", err)
			}
			run := h.checks(s)[CheckBuild]
			if run.Conclusion != "failure" || !strings.Contains(fmt.Sprint(run.Summary, run.Title, run.Annotations), c.want) {
				t.Fatalf("build check %q %q, want a failure saying %q\n%s\n%v", run.Conclusion, run.Title, c.want, run.Summary, run.Annotations)
			}
			if h.live("addClaims") != "" {
				t.Fatal("a pull request went live")
			}
		})
	}
}
