package githubapp

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		body    string
		want    Command
		ok      bool
		wantErr string
	}{
		{"not a command", "LGTM /rollback x", Command{}, false, ""},
		{"empty", "", Command{}, false, ""},
		{"rollback", "/rollback enrichTokens", Command{Verb: CmdRollback, Workflow: "enrichTokens"}, true, ""},
		{"crlf and later lines ignored", "/rollback enrichTokens\r\n/make-live other", Command{Verb: CmdRollback, Workflow: "enrichTokens"}, true, ""},
		{"leading space and case", "  /Make-Live enrich.tokens d-123", Command{Verb: CmdMakeLive, Workflow: "enrich.tokens", Deployment: "d-123"}, true, ""},
		{"make-live without deployment", "/make-live w1", Command{Verb: CmdMakeLive, Workflow: "w1"}, true, ""},
		{"deactivate", "/deactivate w1", Command{Verb: CmdDeactivate, Workflow: "w1"}, true, ""},
		{"status", "/status", Command{Verb: CmdStatus}, true, ""},
		{"help", "/help", Command{Verb: CmdHelp}, true, ""},
		{"diff", "/diff", Command{Verb: CmdDiff}, true, ""},
		{"diff one workflow", "/Diff addClaims", Command{Verb: CmdDiff, Workflow: "addClaims"}, true, ""},
		{"diff two workflows", "/diff a b", Command{}, true, "usage: /diff"},
		{"diff bad workflow id", "/diff ../../etc", Command{}, true, "workflow id is not valid"},
		{"diff markdown workflow id", "/diff [x](https://evil.example)", Command{}, true, "workflow id is not valid"},
		{"status with args", "/status now", Command{}, true, "takes no arguments"},
		{"rollback missing id", "/rollback", Command{}, true, "usage: /rollback"},
		{"rollback extra", "/rollback a b", Command{}, true, "usage: /rollback"},
		{"make-live too many", "/make-live a b c", Command{}, true, "usage: /make-live"},
		{"bad workflow id", "/rollback ../../etc", Command{}, true, "workflow id is not valid"},
		{"bad deployment id", "/make-live w1 $(rm)", Command{}, true, "deployment id is not valid"},
		{"unknown", "/deploy w1", Command{Verb: "deploy"}, true, "unknown command"},
		{"slash alone", "/", Command{}, true, "no command"},
		{"too long", "/rollback " + strings.Repeat("a", 600), Command{}, true, "longer than"},
		{"markdown workflow id", "/rollback [x](https://evil.example)", Command{}, true, "workflow id is not valid"},
		{"markdown deployment id", "/make-live w1 @everyone", Command{}, true, "deployment id is not valid"},
		{"mention as verb", "/@octocat![x](https://evil.example/a.png)", Command{Verb: "@octocat![x](https://evil.example/a.png)"}, true, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := ParseCommand(c.body)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if got != c.want {
				t.Fatalf("cmd = %+v, want %+v", got, c.want)
			}
			if err != nil && strings.ContainsAny(err.Error(), "@[]") && !strings.Contains(err.Error(), "[<deployment-id>]") {
				t.Fatalf("the error quotes Markdown from the comment: %q", err)
			}
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/rollback a", "/make-live a b", "/status", "hello", "/\xff", "/make-live a\x00 b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, ok, err := ParseCommand(body)
		if !ok && (err != nil || cmd != Command{}) {
			t.Fatalf("not a command but got %+v, %v", cmd, err)
		}
		if err != nil {
			for _, f := range strings.Fields(body) {
				if len(f) >= 12 && !strings.Contains(f, "<") && strings.Contains(err.Error(), f) {
					t.Fatalf("error quotes the comment: %q", err)
				}
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error echoes too much input: %d bytes", len(err.Error()))
			}
			if utf8.ValidString(body) && !utf8.ValidString(err.Error()) {
				t.Fatalf("error is not valid UTF-8: %q", err)
			}
			return
		}
		if ok && cmd.Workflow != "" && strings.ContainsAny(cmd.Workflow, "/ \n\t$`") {
			t.Fatalf("unsafe workflow id accepted: %q", cmd.Workflow)
		}
	})
}
