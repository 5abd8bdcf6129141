package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/builder"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
)

// crashMarker in a request makes a test worker die the way a Go runtime
// fatal error does (a dump on stderr, exit 2): in a workflow file's name
// it crashes settings inspection, in an env value it crashes a run.
const crashMarker = "crashWorkerNow"

// TestMain lets the test binary serve as a sandbox worker: the supervisor
// re-runs the running executable, which is this binary under go test.
func TestMain(m *testing.M) {
	if os.Getenv("FLOWGATE_SANDBOX_WORKER") != "" {
		crashOnMarker()
	}
	sandbox.MaybeWorker()
	// A builder reads settings itself: the marker in a workflow file's
	// name crashes it the same way.
	builder.MaybeBuilderWith(func(step, file string) {
		if step == project.StepSettings && strings.Contains(file, crashMarker) {
			fmt.Fprint(os.Stderr, "fatal error: stack overflow\n\ngoroutine 1 [running]:\nmain.main()\n\t/flowgate/worker.go:1 +0x1d\n")
			os.Exit(2)
		}
	})
	os.Exit(m.Run())
}

// crashOnMarker puts a pipe between the supervisor and the worker's stdin
// that passes every byte on, and kills the process like a fatal Go error
// when the marker goes by.
func crashOnMarker() {
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	in := os.Stdin
	os.Stdin = r
	go func() {
		buf := make([]byte, 64<<10)
		var tail []byte // the marker may straddle two reads
		for {
			n, err := in.Read(buf)
			if n > 0 {
				seen := append(tail, buf[:n]...)
				if bytes.Contains(seen, []byte(crashMarker)) {
					fmt.Fprint(os.Stderr, "fatal error: stack overflow\n\ngoroutine 1 [running]:\nmain.main()\n\t/flowgate/worker.go:1 +0x1d\n")
					os.Exit(2)
				}
				tail = append([]byte(nil), seen[max(0, len(seen)-len(crashMarker)):]...)
				if _, err := w.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					fmt.Fprintln(os.Stderr, "worker stdin:", err)
				}
				w.Close()
				return
			}
		}
	}()
}
