//go:build !linux

package builder

import (
	"os"
	"os/exec"
)

// Off Linux there is no /proc, prlimit nor namespaces: a builder keeps its
// own soft memory limit, its stack cap and the caller's deadline.

func setProcAttr(cmd *exec.Cmd, isolate bool) {}

const canIsolate = false

func limitSelf(addressSpace uint64, cpuSeconds uint64) {}

func killGroup(pid int) {}

func signalOf(st *os.ProcessState) (string, bool) { return "", false }
