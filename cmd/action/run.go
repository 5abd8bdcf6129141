package main

import (
	"fmt"
	"io"
)

// PLACEHOLDER: replaced by the real implementation of "flowgate run".
func runRun(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flowgate run: not implemented yet")
	return exitUsage
}
