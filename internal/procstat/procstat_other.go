//go:build !linux

// Package procstat reads what the kernel reports about a child process;
// off Linux there is no /proc, and nothing is reported.
package procstat

// RSS is unknown off Linux.
func RSS(pid int) (uint64, bool) { return 0, false }
