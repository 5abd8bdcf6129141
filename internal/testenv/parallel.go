package testenv

import (
	"flag"
	"strconv"
)

// WaitingParallel sets -test.parallel to n unless the command line set
// it. Call it from TestMain, before m.Run, in a package whose parallel
// tests mostly wait (on child processes, databases, HTTP): Go's default,
// GOMAXPROCS tests at a time, leaves the CPUs idle there.
func WaitingParallel(n int) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
}
