package githubapp

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

func TestAttackHostileTarballs(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	h := newHarness(t)
	twoLive(t, h)
	before := h.live("addClaims")
	cases := map[string][]githubtest.Entry{
		"link-dir-then-write": {{Name: "LINK", Type: tar.TypeSymlink, Linkname: outside}, {Name: "LINK/pwn", Type: tar.TypeReg, Body: "x"}},
		"kindejson-symlink":   {{Name: "kinde.json", Type: tar.TypeSymlink, Linkname: "/etc/passwd"}},
		"kindejson-hardlink":  {{Name: "kinde.json", Type: tar.TypeLink, Linkname: "/etc/passwd"}},
		"wf-hardlink":         {{Name: "kindeSrc/environment/workflows/tokens/x.ts", Type: tar.TypeLink, Linkname: "../../../../../../../../etc/passwd"}},
		"dotdot":              {{Name: "../../../../" + strings.TrimPrefix(outside, "/") + "/pwn2", Type: tar.TypeReg, Body: "x"}},
		"abs":                 {{Name: outside + "/pwn3", Type: tar.TypeReg, Body: "x"}},
		"bomb":                {{Name: "kindeSrc/big.bin", Type: tar.TypeReg, Size: 1 << 30}},
	}
	for label, extra := range cases {
		s := githubtest.SHA("hostile-" + label)
		pre := githubtest.Prefix(testRepo, s)
		var ex []githubtest.Entry
		for _, e := range extra {
			if !strings.HasPrefix(e.Name, "/") && !strings.HasPrefix(e.Name, "..") {
				e.Name = pre + e.Name
			}
			ex = append(ex, e)
		}
		fs := starter("evil-" + label)
		if strings.HasPrefix(label, "kindejson") {
			delete(fs, "kinde.json")
		}
		h.gh.Commit(t, testRepo, s, fs, ex...)
		err := h.deliver("push", h.push(s, []string{wfPath}))
		c := h.checks(s)
		t.Logf("%s: err=%v sync=%s %q", label, err, c[CheckSync].Conclusion, c[CheckSync].Title)
		for _, cr := range h.gh.CheckRuns(testRepo) {
			all := cr.Summary
			for _, a := range cr.Annotations {
				all += a["message"].(string)
			}
			if strings.Contains(all, "root:x:0") || strings.Contains(all, "/bin/bash") {
				t.Errorf("HOLE: host file content in check run (%s)", label)
			}
		}
	}
	ents, _ := os.ReadDir(outside)
	for _, e := range ents {
		t.Errorf("HOLE: wrote outside: %s", filepath.Join(outside, e.Name()))
	}
	t.Logf("live before %s after %s", before, h.live("addClaims"))
}
