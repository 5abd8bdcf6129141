package main

import (
	"fmt"
	"io"
)

// PLACEHOLDER: replaced by the real implementation of "flowgate validate".
func runValidate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "flowgate validate: not implemented yet")
	return exitUsage
}
