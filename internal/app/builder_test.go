package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostileRepositoryFailsOneSync: repository content that once killed
// the service fails its own sync with a located diagnostic, and the
// service keeps serving the live workflow: 2,000,000 [ in a module the
// workflow imports (once a fatal stack overflow in the npm import scan and
// the bundler), a tsconfig.json extending /dev/zero (once out of memory),
// and JSX elements nested 300,000 deep, which only the builder process
// contains (build-crashed).
func TestHostileRepositoryFailsOneSync(t *testing.T) {
	t.Parallel()
	repo := devRepo(t)
	a := start(t, Config{DataDir: t.TempDir(), DevRepo: repo, Workers: 1}) // process isolation: builders
	c := &client{t: t, base: a.URL(), bearer: a.AdminToken(), runtimeBearer: a.runtimeToken, env: "production"}
	eventually(t, "first sync live", 60*time.Second, livePlan(c, "free"))

	wfDir := filepath.Join(repo, filepath.Dir(workflowFile))
	// Used, so esbuild cannot drop the import as a TypeScript type import.
	importLine := "import { hostile } from \"./hostile\";\nexport const used = hostile;\n"
	cases := []struct {
		name, rule, file string
		setup, undo      func()
	}{
		{"deep brackets", "build-error", "hostile.ts", func() {
			writeT(t, filepath.Join(wfDir, "hostile.ts"), "export const hostile = "+strings.Repeat("[", 2_000_000)+";\n")
		}, nil},
		{"tsconfig extends /dev/zero", "link-outside-repo", "tsconfig.json", func() {
			writeT(t, filepath.Join(wfDir, "hostile.ts"), "export const hostile = 1;\n")
			writeT(t, filepath.Join(repo, "tsconfig.json"), `{"extends": "/dev/zero"}`)
		}, func() { os.Remove(filepath.Join(repo, "tsconfig.json")) }},
		// (Type arguments 300,000 deep, once here, are now refused by the
		// pre-scan's operator count.)
		{"JSX 300,000 deep", "build-crashed", "hostile.tsx", func() {
			os.Remove(filepath.Join(wfDir, "hostile.ts"))
			writeT(t, filepath.Join(wfDir, "hostile.tsx"), "export const hostile = "+strings.Repeat("<a>;", 300_000)+strings.Repeat("</a>;", 300_000)+"\n")
		}, nil},
	}
	edit(t, repo, `export default async function`, importLine+`export default async function`)
	for _, tc := range cases {
		tc.setup()
		eventually(t, tc.name+": failed sync", 60*time.Second, func() (bool, string) {
			_, res := c.admin("GET", "/syncs", nil)
			syncs, _ := res["syncs"].([]any)
			if len(syncs) == 0 {
				return false, "no syncs"
			}
			s0, _ := syncs[0].(map[string]any)
			log, _ := s0["log"].([]any)
			for _, e := range log {
				m, _ := e.(map[string]any)
				if m["severity"] == "error" && m["rule"] == tc.rule && strings.HasSuffix(fmt.Sprint(m["file"]), tc.file) {
					return s0["status"] == "failed", fmt.Sprint(s0["status"], m)
				}
			}
			return false, fmt.Sprint(len(syncs), s0["status"], log, "\n", a.out.String())
		})
		// The service is alive and the live workflow still answers.
		if code, res := c.trigger(); code != 200 || claim(res, "plan") != "free" {
			t.Fatalf("%s: trigger after the failed sync: %d %v", tc.name, code, res)
		}
		if tc.undo != nil {
			tc.undo()
		}
	}
}

func writeT(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
