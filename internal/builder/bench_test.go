package builder

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flowgate/flowgate/internal/project"
)

// BenchmarkCheck10 measures the cost of one builder process per sync: the
// check of a 10-workflow repository (bundles, settings, analysis) in this
// process and through a builder process (start, containment, the report
// back over the pipe).
//
//	go test ./internal/builder -run '^$' -bench Check10 -benchtime 20x -count 5
func BenchmarkCheck10(b *testing.B) {
	dir := filepath.Join("..", "project", "testdata", "repos", "valid-10")
	ctx := context.Background()
	b.Run("inprocess", func(b *testing.B) {
		for b.Loop() {
			if r, err := project.Check(ctx, dir, project.Options{}); err != nil || len(r.Workflows) != 10 {
				b.Fatal(err)
			}
		}
	})
	b.Run("builder", func(b *testing.B) {
		bl, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if r, err := bl.Check(ctx, dir, project.Options{}); err != nil || len(r.Workflows) != 10 {
				b.Fatal(err)
			}
		}
	})
}
