package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// TestEventGolden: "flowgate event" prints a sample event for every trigger
// (golden file per trigger, kept with -update), JSON naming that trigger.
func TestEventGolden(t *testing.T) {
	t.Parallel()
	for _, trig := range workflow.Triggers {
		t.Run(trig, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, "event", trig)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			var ev struct {
				Context struct {
					Workflow struct{ Trigger string } `json:"workflow"`
				} `json:"context"`
			}
			if err := json.Unmarshal([]byte(stdout), &ev); err != nil || ev.Context.Workflow.Trigger != trig {
				t.Errorf("not a %s event (%v):\n%s", trig, err, stdout)
			}
			goldenCheck(t, filepath.Join("event", strings.ReplaceAll(trig, ":", "_")+".golden"), stdout)
		})
	}
}

// TestEventUsage: an unknown trigger, none or two are usage errors (exit 2)
// that print the usage with the list of triggers; --help is not.
func TestEventUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown trigger", []string{"user:nope"}, exitUsage, `flowgate event: unknown trigger "user:nope"`},
		{"case matters", []string{"USER:PRE_MFA"}, exitUsage, `unknown trigger "USER:PRE_MFA"`},
		{"no trigger", nil, exitUsage, "flowgate event: name one trigger"},
		{"two triggers", []string{"user:pre_mfa", "user:pre_mfa"}, exitUsage, "flowgate event: name one trigger"},
		{"unknown flag", []string{"--format", "yaml", "user:pre_mfa"}, exitUsage, "flag provided but not defined: -format"},
		{"help", []string{"--help"}, exitOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"event"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			out := stderr
			if c.code == exitOK {
				out = stdout
			}
			if !strings.Contains(out, c.want) || !strings.Contains(out, "Usage: flowgate event TRIGGER") || !strings.Contains(out, "user:new_username_provided") {
				t.Errorf("output lacks %q, the usage or the triggers:\n%s", c.want, out)
			}
			if c.code != exitOK && stdout != "" {
				t.Errorf("stdout not empty on error: %q", stdout)
			}
		})
	}
}
