// Package procstat reads what the kernel reports about a child process:
// the sandbox's workers and the builder processes are both held to an
// RSS ceiling read from here.
package procstat

import (
	"bytes"
	"os"
	"strconv"
)

// RSS returns a process's resident memory in bytes from /proc/<pid>/statm
// (false when it cannot be read, e.g. the process is gone).
func RSS(pid int) (uint64, bool) {
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
