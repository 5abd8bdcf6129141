//go:build !unix && !windows

package main

import "time"

// cpuTime is unknown on this system: bench reports 0 CPU per invocation.
func cpuTime() time.Duration { return 0 }
