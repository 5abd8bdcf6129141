package main

import "testing"

func TestFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		code int
	}{
		"version":        {[]string{"--version"}, 0},
		"help":           {[]string{"--help"}, 0},
		"bad log format": {[]string{"--log-format", "xml"}, 2},
		"bad log level":  {[]string{"--log-level", "loud"}, 2},
		"unexpected arg": {[]string{"serve"}, 2},
		"unknown flag":   {[]string{"--nope"}, 2},
	} {
		if got := run(tc.args); got != tc.code {
			t.Errorf("%s: exit %d, want %d", name, got, tc.code)
		}
	}
}
