package main

import (
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	var out, errb strings.Builder
	if code := cli([]string{"--version"}, &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "flowgate ") {
		t.Fatalf("--version: exit %d, %q %q", code, out.String(), errb.String())
	}
}
