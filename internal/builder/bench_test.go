//go:build linux

package builder

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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
		defer cpu(b)()
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
		defer cpu(b)()
		for b.Loop() {
			if r, err := bl.Check(ctx, dir, project.Options{}); err != nil || len(r.Workflows) != 10 {
				b.Fatal(err)
			}
		}
	})
}

// cpu reports the CPU time of this process and its reaped children per
// op ("cpu-ms/op"): on a loaded shared machine wall time says little,
// CPU time is what a check costs.
func cpu(b *testing.B) func() {
	used := func() time.Duration {
		var self, kids syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
		_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
		var d time.Duration
		for _, r := range []syscall.Rusage{self, kids} {
			d += time.Duration(r.Utime.Nano() + r.Stime.Nano())
		}
		return d
	}
	start := used()
	return func() {
		b.ReportMetric(float64((used()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}
