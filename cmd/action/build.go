package main

import (
	"fmt"
	"io"
)

// PLACEHOLDER: replaced by the real implementation of "flowgate build".
func runBuild(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flowgate build: not implemented yet")
	return exitUsage
}
