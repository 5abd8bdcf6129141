package project

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowgate/flowgate/internal/testenv"
	"github.com/flowgate/flowgate/internal/workflow"
)

// genRepo writes a repository of n workflows that import
// @kinde/infrastructure, with node_modules linked to the real package.
// Past ten workflows the triggers repeat (so duplicate-trigger fires), which
// changes nothing in the work done.
func genRepo(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.Symlink(testenv.NodeModules(b), filepath.Join(dir, "node_modules")); err != nil {
		b.Fatal(err)
	}
	writeB(b, filepath.Join(dir, "kinde.json"), `{"rootDir": "kindeSrc", "version": "2024-12-09"}`)
	writeB(b, filepath.Join(dir, "kindeSrc", "environment", "workflows", "shared", "claims.ts"),
		"export function tier(id: string): string {\n  let t: string | undefined;\n  t ??= id.startsWith(\"kp_\") ? \"gold\" : \"free\";\n  return t;\n}\n")
	for i := range n {
		trigger := workflow.Triggers[i%len(workflow.Triggers)]
		src := fmt.Sprintf(`import { WorkflowTrigger, accessTokenCustomClaims, getEnvironmentVariable, denyAccess } from "@kinde/infrastructure";
import { tier } from "./shared/claims";

export const workflowSettings = {
  id: "wf%d",
  name: "Workflow %d",
  trigger: %q,
  failurePolicy: { action: "stop" },
  bindings: { "kinde.accessToken": {}, "kinde.env": {}, "kinde.auth": {} },
};

export default async function handle(event: any) {
  const claims = accessTokenCustomClaims<{ tier: string; region?: string }>();
  claims.tier = tier(event.context.user.id);
  claims.region = getEnvironmentVariable("REGION")?.value ?? "eu";
  if (event.request.ip === "10.0.0.1") denyAccess("blocked");
}
`, i, i, trigger)
		writeB(b, filepath.Join(dir, "kindeSrc", "environment", "workflows", fmt.Sprintf("w%03dWorkflow.ts", i)), src)
	}
	return dir
}

func writeB(b *testing.B, name, data string) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
}

func benchCheck(b *testing.B, n int) {
	dir := genRepo(b, n)
	ctx := context.Background()
	// node_modules is a link to the test packages: a package folder the
	// tool "installed", as npm.Install's folder is in a sync.
	opts := Options{PackageDirs: []string{testenv.NodeModules(b)}}
	r, err := Check(ctx, dir, opts)
	if err != nil || len(r.Workflows) != n {
		b.Fatalf("Check: %v, %d workflows", err, len(r.Workflows))
	}
	for _, w := range r.Workflows {
		if w.Bundle == nil || w.Settings.ID == "" {
			b.Fatalf("%s did not build: %v", w.File, w.Diagnostics)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Check(ctx, dir, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n)/1000, "ms/workflow")
}

// BenchmarkCheck10 validates and bundles a 10-workflow repository.
func BenchmarkCheck10(b *testing.B) { benchCheck(b, 10) }

// BenchmarkCheck100 validates and bundles a 100-workflow repository.
func BenchmarkCheck100(b *testing.B) { benchCheck(b, 100) }
