package builder

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// setProcAttr puts a builder in its own process group (a terminal's
// Ctrl-C reaches the caller, not it), has the kernel kill it when the
// caller dies, and, when isolate is set, gives it new user and network
// namespaces: it has no network interface but loopback, which is down.
func setProcAttr(cmd *exec.Cmd, isolate bool) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if isolate {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
	}
}

// canIsolate is whether setProcAttr can take namespaces on this platform.
const canIsolate = true

// rss returns a process's resident memory in bytes from /proc/<pid>/statm.
func rss(pid int) (uint64, bool) {
	var buf [128]byte
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, false
	}
	n, _ := f.Read(buf[:])
	f.Close()
	fields := bytes.Fields(buf[:n])
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(string(fields[1]), 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}

// limitSelf sets this process's RLIMIT_AS (an allocation past it fails
// and the Go runtime dies with "out of memory" at once) and RLIMIT_CPU
// (the kernel kills the process with SIGKILL once it has used that many
// seconds of CPU time: soft and hard limits are equal).
func limitSelf(addressSpace uint64, cpuSeconds uint64) {
	if addressSpace > 0 {
		_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: addressSpace, Max: addressSpace})
	}
	if cpuSeconds > 0 {
		_ = syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: cpuSeconds, Max: cpuSeconds})
	}
}

// killGroup kills a builder's process group.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// signalOf names the signal that ended a process, and whether it was
// SIGKILL.
func signalOf(st *os.ProcessState) (string, bool) {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", false
	}
	return ws.Signal().String(), ws.Signal() == syscall.SIGKILL
}
