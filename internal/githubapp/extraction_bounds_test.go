package githubapp

import (
	"archive/tar"
	"fmt"
	"strings"
	"testing"
)

// Archives that cost the service without writing big files — empty
// directories, links, deep or long paths, device files, headers with large
// bodies of kinds never written — fail one sync cleanly with a red check
// that says why, nothing goes live, and the next good push syncs.
func TestExtractionBoundsFailOneSyncCleanly(t *testing.T) {
	t.Parallel()
	many := func(n int, mk func(i int) entry) []entry {
		var es []entry
		for i := range n {
			es = append(es, mk(i))
		}
		return es
	}
	cases := []struct {
		name  string
		extra []entry
		says  string
	}{
		{"directory bomb", many(400, func(i int) entry { return entry{name: fmt.Sprintf("x/d%d/", i), typ: tar.TypeDir} }), "more than 200 entries"},
		{"parents of deep files", many(30, func(i int) entry {
			return entry{name: fmt.Sprintf("x/%d/a/b/c/d/e/f/g/h/f.txt", i), typ: tar.TypeReg, body: "x"}
		}), "more than 200 entries"},
		{"link names", many(400, func(i int) entry {
			return entry{name: fmt.Sprintf("x/l%d-%s", i, strings.Repeat("n", 200)), typ: tar.TypeSymlink, linkname: "/etc/passwd"}
		}), "more than 200 entries"},
		{"deep path", []entry{{name: "x/" + strings.Repeat("d/", 70) + "f.txt", typ: tar.TypeReg, body: "x"}}, "directories deep"},
		{"long name", []entry{{name: "x/" + strings.Repeat("n", 2000), typ: tar.TypeReg, body: "x"}}, "bytes long"},
		{"device file", []entry{{name: "x/kindeSrc/zero", typ: tar.TypeChar}}, "is a device or FIFO"},
		{"fifo", []entry{{name: "x/kindeSrc/pipe", typ: tar.TypeFifo}}, "is a device or FIFO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) { o.Limits.MaxFiles = 100 })
			s := sha(c.name)
			h.gh.SetTarball(testRepo, s, tarball(t, s, starter("gold"), c.extra...))
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
