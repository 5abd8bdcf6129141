package builder

import (
	"os"
	"os/exec"
	"os/signal"
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

// limitSelf sets this process's RLIMIT_AS (an allocation past it fails
// and the Go runtime dies with "out of memory" at once) and RLIMIT_CPU:
// at the soft limit the kernel sends SIGXCPU, on which the builder says so
// on stderr and exits; a second later the hard limit kills it outright.
func limitSelf(addressSpace uint64, cpuSeconds uint64) {
	if addressSpace > 0 {
		_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: addressSpace, Max: addressSpace})
	}
	if cpuSeconds > 0 {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGXCPU)
		go func() {
			<-ch
			os.Stderr.WriteString(cpuMarker + "\n")
			os.Exit(4)
		}()
		_ = syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: cpuSeconds, Max: cpuSeconds + 1})
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
