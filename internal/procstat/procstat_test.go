package procstat

import (
	"os"
	"runtime"
	"testing"
)

func TestRSS(t *testing.T) {
	n, ok := RSS(os.Getpid())
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatal("RSS reported off Linux")
		}
		return
	}
	if !ok || n < 1<<20 {
		t.Fatalf("RSS of this test process: %d, %v; want at least a MiB", n, ok)
	}
	if _, ok := RSS(-1); ok {
		t.Fatal("RSS of no process reported")
	}
}
