package githubapp

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// pr is a real pull_request payload re-aimed at the test repository, with
// head sha from headRepo (a fork when it is not the test repository).
func (h *harness) pr(action, headSHA, headRepo string) []byte {
	h.t.Helper()
	return githubtest.Webhook(h.t, "pull_request", "opened", map[string]any{
		"action": action, "number": 12,
		"pull_request.number":              12,
		"pull_request.head.sha":            headSHA,
		"pull_request.head.ref":            "feature",
		"pull_request.head.repo.full_name": headRepo,
		"pull_request.base.ref":            "main",
	})
}

func TestPullRequestsAreCheckedNeverDeployed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, action, headRepo string
		broken, wantChecks     bool
		noPush                 bool // no environment exists yet
	}{
		{name: "before any push", action: "opened", headRepo: testRepo, wantChecks: true, noPush: true},
		{name: "opened", action: "opened", headRepo: testRepo, wantChecks: true},
		{name: "synchronize", action: "synchronize", headRepo: testRepo, wantChecks: true},
		{name: "reopened", action: "reopened", headRepo: testRepo, wantChecks: true},
		{name: "fork", action: "opened", headRepo: "mallory/flows", wantChecks: true},
		{name: "fork broken", action: "opened", headRepo: "mallory/flows", broken: true, wantChecks: true},
		{name: "closed", action: "closed", headRepo: testRepo},
		{name: "labeled", action: "labeled", headRepo: testRepo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if !c.noPush {
				_, push := h.commit("main", starter("gold"))
				if err := h.deliver("push", push); err != nil {
					t.Fatal(err)
				}
			}
			live := h.live("addClaims")
			fs := starter("platinum")
			if c.broken {
				fs[wfPath] = strings.Replace(fs[wfPath], "export default", "export defaul", 1)
			}
			s := githubtest.SHA("pr-" + c.name)
			h.gh.Commit(t, testRepo, s, fs)
			if err := h.deliver("pull_request", h.pr(c.action, s, c.headRepo)); err != nil {
				t.Fatal(err)
			}
			h.noBodyErrors()
			cs := h.checks(s)
			if !c.wantChecks {
				if len(cs) != 0 {
					t.Fatalf("check runs on a %s pull request: %v", c.action, cs)
				}
				return
			}
			want := "success"
			if c.broken {
				want = "failure"
			}
			for _, n := range []string{CheckSync, CheckBuild} {
				if c.broken && n == CheckSync {
					continue // a build error belongs to the build check run
				}
				if cs[n].Conclusion != want {
					t.Errorf("%s: %q, want %q (%s)", n, cs[n].Conclusion, want, cs[n].Summary)
				}
			}
			if !c.broken && !strings.Contains(cs[CheckBuild].Summary, "never deployed") {
				t.Errorf("build summary does not say pull requests are not deployed:\n%s", cs[CheckBuild].Summary)
			}
			if got := h.live("addClaims"); got != live {
				t.Fatalf("a pull request moved live from %s to %s", live, got)
			}
			syncs, _ := h.svc.Syncs(context.Background(), "production", 10)
			deps, _ := h.svc.Deployments(context.Background(), "production", "addClaims", 10)
			if want := map[bool]int{true: 0, false: 1}[c.noPush]; len(syncs) != want || len(deps) != want {
				t.Fatalf("a pull request deployed: %d syncs, %d deployments", len(syncs), len(deps))
			}
			if n := len(h.gh.Deployments(testRepo)); n != map[bool]int{true: 0, false: 1}[c.noPush] {
				t.Errorf("%d GitHub deployments, want the push's only", n)
			}
		})
	}
}

// TestHostileCommits: nothing a commit contains reaches the host — paths
// out of the checkout, links, a committed node_modules, huge files,
// top-level code that throws.
func TestHostileCommits(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "pwned")
	cases := []struct {
		name      string
		fs        files
		extra     func(prefix string) []githubtest.Entry
		wantTitle string // the check run's title contains it
		wantConcl string
	}{
		{name: "dot-dot path", fs: starter("gold"), wantConcl: "failure", wantTitle: "cannot be",
			extra: func(p string) []githubtest.Entry {
				return []githubtest.Entry{{Name: p + "../../../../../../../.." + outside, Type: tar.TypeReg, Body: "x"}}
			}},
		{name: "absolute path", fs: starter("gold"), wantConcl: "failure", wantTitle: "cannot be",
			extra: func(p string) []githubtest.Entry {
				return []githubtest.Entry{{Name: outside, Type: tar.TypeReg, Body: "x"}}
			}},
		{name: "huge file", fs: starter("gold"), wantConcl: "failure", wantTitle: "cannot be",
			extra: func(p string) []githubtest.Entry {
				return []githubtest.Entry{{Name: p + "kindeSrc/big.bin", Type: tar.TypeReg, Size: 6 << 20}}
			}},
		{name: "symlink to / imported by a workflow", wantConcl: "failure",
			fs: files{
				"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
				wfPath: `import secret from "../../../../host/etc/hostname";
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation" };
export default async function f() { console.log(secret); }`,
			},
			extra: func(p string) []githubtest.Entry {
				return []githubtest.Entry{{Name: p + "host", Type: tar.TypeSymlink, Linkname: "/"}}
			}},
		{name: "committed node_modules is replaced", wantConcl: "failure",
			fs: files{
				"kinde.json":                     `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
				"node_modules/evil/index.js":     `module.exports = require("fs").readFileSync("/etc/passwd", "utf8");`,
				"node_modules/evil/package.json": `{"name": "evil", "main": "index.js"}`,
				wfPath: `import evil from "evil";
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation" };
export default async function f() { console.log(evil); }`,
			}},
		{name: "top level throws", wantConcl: "failure",
			fs: files{
				"kinde.json": `{"rootDir": "kindeSrc", "version": "2024-12-09"}`,
				wfPath: `throw new Error("boom at the top");
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation" };
export default async function f() {}`,
			}},
	}
	for _, c := range cases {
		for _, kind := range []string{"push", "pull_request"} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				h := newHarness(t, func(o *harnessOptions) { o.Limits.MaxFileBytes = 5 << 20 })
				s := githubtest.SHA(c.name + kind)
				var extra []githubtest.Entry
				if c.extra != nil {
					extra = c.extra(githubtest.Prefix(testRepo, s))
				}
				h.gh.Commit(t, testRepo, s, c.fs, extra...)
				var err error
				if kind == "push" {
					err = h.deliver("push", h.push(s, []string{wfPath}))
				} else {
					err = h.deliver("pull_request", h.pr("opened", s, "mallory/flows"))
				}
				if err != nil {
					t.Fatalf("a hostile commit made the job fail (it would be retried forever): %v", err)
				}
				h.noBodyErrors()
				if _, err := os.Stat(outside); err == nil {
					t.Fatal("the archive wrote outside the checkout")
				}
				b := h.checks(s)[CheckBuild]
				if b.Conclusion != c.wantConcl || !strings.Contains(b.Title, c.wantTitle) {
					t.Fatalf("build check %q %q, want %q containing %q\n%s", b.Conclusion, b.Title, c.wantConcl, c.wantTitle, b.Summary)
				}
				all := fmt.Sprint(h.gh.CheckRuns(testRepo))
				for _, leak := range []string{"root:x:0:0", "/etc/passwd:"} {
					if strings.Contains(all, leak) {
						t.Fatalf("host file content reached a check run: %s", all)
					}
				}
				if h.live("addClaims") != "" {
					t.Fatal("a hostile commit went live")
				}
			})
		}
	}
}

// Archives past the download limit, and compression bombs past the
// extraction limits, fail the check runs without being retried.
func TestOversizedArchives(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		opts  func(*harnessOptions)
		extra []githubtest.Entry
	}{
		{name: "download limit", opts: func(o *harnessOptions) { o.MaxArchiveBytes = 2 << 10 },
			extra: []githubtest.Entry{{Name: "x/kindeSrc/noise.txt", Type: tar.TypeReg, Body: randomText(16 << 10)}}},
		{name: "compression bomb", opts: func(o *harnessOptions) {},
			extra: []githubtest.Entry{{Name: "x/kindeSrc/bomb.bin", Type: tar.TypeReg, Size: 300 << 20}}},
		{name: "too many files", opts: func(o *harnessOptions) { o.Limits.MaxFiles = 20 },
			extra: func() []githubtest.Entry {
				var es []githubtest.Entry
				for i := range 30 {
					es = append(es, githubtest.Entry{Name: fmt.Sprintf("x/f%d.txt", i), Type: tar.TypeReg, Body: "x"})
				}
				return es
			}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.opts)
			s := githubtest.SHA(c.name)
			h.gh.Commit(t, testRepo, s, starter("gold"), c.extra...)
			if err := h.deliver("push", h.push(s, []string{wfPath})); err != nil {
				t.Fatalf("the job failed (it would be retried): %v", err)
			}
			b := h.checks(s)[CheckBuild]
			if b.Conclusion != "failure" || !strings.Contains(b.Title, "cannot be synced") {
				t.Fatalf("build check %q %q: %s", b.Conclusion, b.Title, b.Summary)
			}
			if h.live("addClaims") != "" {
				t.Fatal("went live")
			}
		})
	}
}

// randomText does not compress.
func randomText(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}
