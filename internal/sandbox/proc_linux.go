package sandbox

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// setProcAttr puts a worker in its own process group (a terminal's Ctrl-C
// reaches the supervisor, not its workers) and has the kernel kill it when
// the supervisor dies.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// limitAddressSpace sets this process's RLIMIT_AS: an allocation past it
// fails, and the Go runtime dies with "out of memory" at once.
func limitAddressSpace(n uint64) {
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: n, Max: n})
}

// cpuTime returns a process's user+system CPU time in clock ticks from
// /proc/<pid>/stat (benchmarks only).
func cpuTicks(pid int) (uint64, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces: fields count from after its ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(data[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	s, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return u + s, true
}

// pollable opens an inherited pipe fd for reading through Go's poller: a
// goroutine waiting on it parks instead of holding a thread in a blocking
// read, which keeps the runtime's monitor thread retaking the P and
// polling every 20µs for as long as the worker waits.
func pollable(fd int, name string) *os.File {
	_ = syscall.SetNonblock(fd, true) // failing, the file simply blocks
	return os.NewFile(uintptr(fd), name)
}

// blockingPipe is a pipe between the supervisor and a worker (requests
// one way, answers the other) whose ends block in read(2) instead of going
// through Go's poller: the waiting goroutine's thread sleeps in the kernel
// and the other side's write wakes that very thread, where a poller wait
// parks the goroutine and makes the scheduler spin up threads to find
// other work on every message. (The runtime does not take the P of a
// thread blocked this briefly while other Ps are idle.) Both directions
// blocking halved a supervised invocation's CPU (BENCHMARKS.md).
func blockingPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
