package githubapp

import (
	"regexp"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// TestRepliesGolden: what people read in answer to each slash command,
// with deployment ids and commits replaced by placeholders.
func TestRepliesGolden(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first, second := twoLive(t, h)
	h.gh.SetPermission(testRepo, "wanda", "write")
	h.gh.SetPermission(testRepo, "rita", "read")
	steps := []struct{ user, body string }{
		{"wanda", "/status"},
		{"rita", "/rollback addClaims"},
		{"wanda", "/rollback addClaims"},
		{"wanda", "/make-live addClaims " + second},
		{"wanda", "/deactivate addClaims"},
		{"wanda", "/deactivate addClaims"},
		{"wanda", "/make-live"},
		{"wanda", "/frobnicate"},
		{"renovate[bot]", "/rollback addClaims"},
		{"rita", "/help"},
		{"rita", "/@everyone [click](https://evil.example)"},
		{"rita", "/rollback [click](https://evil.example)"},
	}
	for i, s := range steps {
		typ := "User"
		if strings.HasSuffix(s.user, "[bot]") {
			typ = "Bot"
		}
		if err := h.deliver("issue_comment", h.comment("created", s.body, s.user, typ, int64(100+i))); err != nil {
			t.Fatal(err)
		}
	}
	cs := h.gh.Comments(testRepo)
	if len(cs) != len(steps) {
		t.Fatalf("%d replies for %d commands", len(cs), len(steps))
	}
	var b strings.Builder
	for i, c := range cs {
		b.WriteString("### " + steps[i].user + ": " + steps[i].body + "\n\n" + c.Body + "\n\n")
	}
	out := strings.NewReplacer(first, "<first>", second, "<second>", githubtest.SHA("gold")[:7], "<commit-1>", githubtest.SHA("platinum")[:7], "<commit-2>").Replace(b.String())
	out = regexp.MustCompile("dep_[A-Za-z0-9_-]+").ReplaceAllString(out, "<dep>")
	for _, c := range cs {
		if strings.Contains(c.Body, "evil.example") || strings.Contains(c.Body, "@everyone") {
			t.Errorf("a reply quotes the comment's Markdown: %s", c.Body)
		}
	}
	golden(t, "replies.golden.md", []byte(out))
}
