package main

import (
	"fmt"
	"io"
)

// PLACEHOLDER: replaced by the real implementation of "flowgate test".
func runTest(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flowgate test: not implemented yet")
	return exitUsage
}
