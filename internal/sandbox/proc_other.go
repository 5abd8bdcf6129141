//go:build !linux

package sandbox

import (
	"os"
	"os/exec"
)

// Off Linux there is no /proc nor prlimit: workers keep their own soft
// memory limit and the supervisor's deadline, not the RSS ceiling.

func setProcAttr(cmd *exec.Cmd) {}

func limitAddressSpace(n uint64) {}

func cpuTicks(pid int) (uint64, bool) { return 0, false }

func pollable(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }

func blockingPipe() (r, w *os.File, err error) { return os.Pipe() }
