package githubapp

import (
	"archive/tar"
	"fmt"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// Archives that cost the service without writing big files — empty
// directories, links, deep or long paths, device files, headers with large
// bodies of kinds never written — fail one sync cleanly with a red check
// that says why, nothing goes live, and the next good push syncs.
func TestExtractionBoundsFailOneSyncCleanly(t *testing.T) {
	t.Parallel()
	many := func(n int, mk func(i int) githubtest.Entry) []githubtest.Entry {
		var es []githubtest.Entry
		for i := range n {
			es = append(es, mk(i))
		}
		return es
	}
	cases := []struct {
		name  string
		extra []githubtest.Entry
		says  string
	}{
		{"directory bomb", many(400, func(i int) githubtest.Entry {
			return githubtest.Entry{Name: fmt.Sprintf("x/d%d/", i), Type: tar.TypeDir}
		}), "more than 200 entries"},
		{"parents of deep files", many(30, func(i int) githubtest.Entry {
			return githubtest.Entry{Name: fmt.Sprintf("x/%d/a/b/c/d/e/f/g/h/f.txt", i), Type: tar.TypeReg, Body: "x"}
		}), "more than 200 entries"},
		{"link names", many(400, func(i int) githubtest.Entry {
			return githubtest.Entry{Name: fmt.Sprintf("x/l%d-%s", i, strings.Repeat("n", 200)), Type: tar.TypeSymlink, Linkname: "/etc/passwd"}
		}), "more than 200 entries"},
		{"deep path", []githubtest.Entry{{Name: "x/" + strings.Repeat("d/", 70) + "f.txt", Type: tar.TypeReg, Body: "x"}}, "directories deep"},
		{"long name", []githubtest.Entry{{Name: "x/" + strings.Repeat("n", 2000), Type: tar.TypeReg, Body: "x"}}, "bytes long"},
		{"device file", []githubtest.Entry{{Name: "x/kindeSrc/zero", Type: tar.TypeChar}}, "is a device or FIFO"},
		{"fifo", []githubtest.Entry{{Name: "x/kindeSrc/pipe", Type: tar.TypeFifo}}, "is a device or FIFO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) { o.Limits.MaxFiles = 100 })
			s := githubtest.SHA(c.name)
			h.gh.Commit(t, testRepo, s, starter("gold"), c.extra...)
			if err := h.post("push", h.push(s, []string{wfPath})); err != nil {
				t.Fatalf("the job failed (it would be retried): %v", err)
			}
			b := h.checks(s)[CheckBuild]
			if b.Conclusion != "failure" || !strings.Contains(b.Title, "cannot be synced") || !strings.Contains(b.Summary, c.says) {
				t.Fatalf("build check %q %q: %s", b.Conclusion, b.Title, b.Summary)
			}
			if h.live("addClaims") != "" {
				t.Fatal("went live")
			}
			good, push := h.commit("good", starter("gold"))
			if err := h.post("push", push); err != nil {
				t.Fatal(err)
			}
			if h.checks(good)[CheckBuild].Conclusion != "success" || h.live("addClaims") == "" {
				t.Fatal("the next good push did not sync")
			}
		})
	}
}
