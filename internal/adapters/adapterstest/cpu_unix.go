//go:build unix

package adapterstest

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user + system) this process has used so far;
// benchmarks report CPU per operation, which a busy machine does not
// inflate the way it inflates wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
