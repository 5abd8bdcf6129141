package githubapp

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAttackHostileTarballs(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	h := newHarness(t)
	twoLive(t, h)
	before := h.live("addClaims")
	p := "acme-flows-"
	cases := map[string][]entry{
		"link-dir-then-write": {{name: "LINK", typ: tar.TypeSymlink, linkname: outside}, {name: "LINK/pwn", typ: tar.TypeReg, body: "x"}},
		"kindejson-symlink":   {{name: "kinde.json", typ: tar.TypeSymlink, linkname: "/etc/passwd"}},
		"kindejson-hardlink":  {{name: "kinde.json", typ: tar.TypeLink, linkname: "/etc/passwd"}},
		"wf-hardlink":         {{name: "kindeSrc/environment/workflows/tokens/x.ts", typ: tar.TypeLink, linkname: "../../../../../../../../etc/passwd"}},
		"dotdot":              {{name: "../../../../" + strings.TrimPrefix(outside, "/") + "/pwn2", typ: tar.TypeReg, body: "x"}},
		"abs":                 {{name: outside + "/pwn3", typ: tar.TypeReg, body: "x"}},
		"bomb":                {{name: "kindeSrc/big.bin", typ: tar.TypeReg, size: 1 << 30}},
	}
	for label, extra := range cases {
		s := sha("hostile-" + label)
		pre := p + s[:7] + "/"
		var ex []entry
		for _, e := range extra {
			if !strings.HasPrefix(e.name, "/") && !strings.HasPrefix(e.name, "..") {
				e.name = pre + e.name
			}
			ex = append(ex, e)
		}
		fs := starter("evil-" + label)
		if strings.HasPrefix(label, "kindejson") {
			delete(fs, "kinde.json")
		}
		h.gh.SetTarball(testRepo, s, tarball(t, s, fs, ex...))
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
