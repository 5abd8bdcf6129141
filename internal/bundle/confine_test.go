package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinksOutOfRepoRefused builds a real repository with real symbolic
// links (made here, never committed): each way of reaching a host file at
// build time is a located link-outside-repo diagnostic that shows neither
// the file's text nor its path; the tool's own package folder is allowed.
func TestLinksOutOfRepoRefused(t *testing.T) {
	host := t.TempDir() // stands in for the host outside the repository
	const secret = "host-secret-7f3a"
	write(t, filepath.Join(host, "etc", "hostname"), secret)
	write(t, filepath.Join(host, "pkgs", "node_modules", "tool-pkg", "package.json"), `{"name": "tool-pkg", "main": "index.js"}`)
	write(t, filepath.Join(host, "pkgs", "node_modules", "tool-pkg", "index.js"), `module.exports = "from the tool's folder";`)
	write(t, filepath.Join(host, "tsconfig.base.json"), secret)
	installed := filepath.Join(host, "pkgs", "node_modules")

	link := func(t *testing.T, target, name string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name     string
		setup    func(t *testing.T, root string)
		src      string
		packages []string
		rule     string // "" = builds
		line     int
		col      int
	}{
		{"package link to / (text import)", func(t *testing.T, root string) {
			link(t, "/", filepath.Join(root, "node_modules", "root"))
		}, "import x from \"root/etc/hostname\" with { type: \"text\" };\nexport default async () => x;", nil, RuleLinkOutsideRepo, 1, 15},
		{"package link to a host folder", func(t *testing.T, root string) {
			link(t, host, filepath.Join(root, "node_modules", "h"))
		}, "import x from \"h/etc/hostname\" with { type: \"text\" };\nexport default async () => x;", nil, RuleLinkOutsideRepo, 1, 15},
		{"node_modules itself a link out", func(t *testing.T, root string) {
			link(t, filepath.Join(host, "pkgs", "node_modules"), filepath.Join(root, "node_modules"))
		}, "import x from \"tool-pkg\";\nexport default async () => x;", nil, RuleLinkOutsideRepo, 1, 15},
		{"node_modules linked to the tool's folder", func(t *testing.T, root string) {
			link(t, installed, filepath.Join(root, "node_modules"))
		}, "import x from \"tool-pkg\";\nexport default async () => x;", []string{installed}, "", 0, 0},
		{"escape from the tool's folder", func(t *testing.T, root string) {
			link(t, installed, filepath.Join(root, "node_modules"))
			link(t, "/", filepath.Join(installed, "escape"))
		}, "import x from \"escape/etc/hostname\" with { type: \"text\" };\nexport default async () => x;", []string{installed}, RuleLinkOutsideRepo, 1, 15},
		{"file link in a folder", func(t *testing.T, root string) {
			link(t, filepath.Join(host, "etc", "hostname"), filepath.Join(root, "lib", "name.txt"))
		}, "import x from \"../lib/name.txt\" with { type: \"text\" };\nexport default async () => x;", nil, RuleLinkOutsideRepo, 1, 15},
		{"folder link", func(t *testing.T, root string) {
			link(t, filepath.Join(host, "etc"), filepath.Join(root, "lib"))
		}, "import x from \"../lib/hostname\" with { type: \"text\" };\nexport default async () => x;", nil, RuleLinkOutsideRepo, 1, 15},
		{"relative path out", func(t *testing.T, root string) {
			rel, err := filepath.Rel(filepath.Join(root, "w"), filepath.Join(host, "etc", "hostname"))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(root, "w", "xWorkflow.ts"), "import x from \""+filepath.ToSlash(rel)+"\" with { type: \"text\" };\nexport default async () => x;")
		}, "", nil, RuleLinkOutsideRepo, 1, 15},
		{"tsconfig extends a host file", func(t *testing.T, root string) {
			write(t, filepath.Join(root, "tsconfig.json"), `{"extends": "`+filepath.ToSlash(filepath.Join(host, "tsconfig.base.json"))+`"}`)
		}, "export default async () => 1;", nil, RuleLinkOutsideRepo, 1, 13},
		{"the workflow file itself a link out", func(t *testing.T, root string) {
			write(t, filepath.Join(host, "evil.ts"), "export default async () => \""+secret+"\";")
			if err := os.Remove(filepath.Join(root, "w", "xWorkflow.ts")); err != nil {
				t.Fatal(err)
			}
			link(t, filepath.Join(host, "evil.ts"), filepath.Join(root, "w", "xWorkflow.ts"))
		}, "export default 1;", nil, RuleLinkOutsideRepo, 1, 1},
		{"dangling link", func(t *testing.T, root string) {
			link(t, filepath.Join(host, "nope.js"), filepath.Join(root, "lib", "gone.js"))
		}, "import x from \"../lib/gone.js\";\nexport default async () => x;", nil, RuleBuildError, 1, 15},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "repo")
			write(t, filepath.Join(root, "w", "xWorkflow.ts"), c.src)
			c.setup(t, root)
			out, ds := Config{PackageDirs: c.packages}.Build(root, "w/xWorkflow.ts")
			if c.rule == "" {
				if out == nil {
					t.Fatalf("build failed: %v", ds)
				}
				return
			}
			if out != nil {
				if strings.Contains(string(out.Code), secret) {
					t.Fatalf("the host file was bundled")
				}
				t.Fatalf("built; want a %s diagnostic", c.rule)
			}
			if len(ds) != 1 {
				t.Fatalf("want one diagnostic, got %v", ds)
			}
			d := ds[0]
			at := "w/xWorkflow.ts"
			if strings.HasPrefix(c.name, "tsconfig") {
				at = "tsconfig.json" // located where the extends is written
			}
			if d.Rule != c.rule || d.File != at || d.Line != c.line || d.Column != c.col {
				t.Errorf("diagnostic %v, want %s at %s:%d:%d", d, c.rule, at, c.line, c.col)
			}
			for _, leak := range []string{secret, host} {
				if strings.Contains(d.Message, leak) || strings.Contains(d.File, leak) {
					t.Errorf("diagnostic reveals %q: %v", leak, d)
				}
			}
		})
	}
}
