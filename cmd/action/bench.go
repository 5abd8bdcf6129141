package main

import (
	"fmt"
	"io"
)

// PLACEHOLDER: replaced by the real implementation of "flowgate bench".
func runBench(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flowgate bench: not implemented yet")
	return exitUsage
}
