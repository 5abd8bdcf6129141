package githubapp

import (
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// comment is a real issue_comment payload re-aimed at the test repository.
func (h *harness) comment(action, body, login, userType string, id int64) []byte {
	h.t.Helper()
	return githubtest.Webhook(h.t, "issue_comment", "created", map[string]any{
		"action": action, "comment.body": body, "comment.id": id,
		"comment.user.login": login, "comment.user.type": userType,
		"issue.number": 12, "sender.login": login, "sender.type": userType,
	})
}

// twoLive syncs two commits so /rollback has somewhere to go.
func twoLive(t *testing.T, h *harness) (first, second string) {
	t.Helper()
	for _, plan := range []string{"gold", "platinum"} {
		_, push := h.commit(plan, starter(plan))
		if err := h.deliver("push", push); err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = h.live("addClaims")
		} else {
			second = h.live("addClaims")
		}
	}
	if first == "" || second == "" || first == second {
		t.Fatalf("setup: live %q then %q", first, second)
	}
	return first, second
}

func TestSlashCommands(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, user, perm, userType, action string
		minPerm                                  string
		wantLive                                 string // "first", "second", "none"
		wantReaction                             string // the last reaction
		wantReply                                []string
		wantNoReply                              bool
		wantDeployState                          string // state of a new GitHub deployment, "" for none
	}{
		{name: "rollback by a writer", body: "/rollback addClaims", user: "wanda", perm: "write",
			wantLive: "first", wantReaction: "rocket", wantReply: []string{"@wanda", "rolled `addClaims` back", "is live again", "(was `$second`)", "`$first`"}, wantDeployState: "success"},
		{name: "rollback by an admin, second line ignored", body: "/rollback addClaims\n/deactivate addClaims", user: "ada", perm: "admin",
			wantLive: "first", wantReaction: "rocket", wantReply: []string{"rolled"}, wantDeployState: "success"},
		{name: "rollback by a reader is refused", body: "/rollback addClaims", user: "rita", perm: "read",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"@rita", "needs write permission", "you have read", "Nothing changed"}},
		{name: "triage is not enough", body: "/rollback addClaims", user: "tim", perm: "triage",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"needs write"}},
		{name: "a stranger is refused", body: "/rollback addClaims", user: "stranger",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"you have none"}},
		{name: "a bot is refused", body: "/rollback addClaims", user: "dependabot[bot]", perm: "admin", userType: "Bot",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"does not take commands from bots"}},
		{name: "write is not enough when maintain is required", body: "/rollback addClaims", user: "wanda", perm: "write", minPerm: "maintain",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"needs maintain permission"}},
		{name: "maintain when maintain is required", body: "/rollback addClaims", user: "mo", perm: "maintain", minPerm: "maintain",
			wantLive: "first", wantReaction: "rocket", wantDeployState: "success"},
		{name: "edited comments are ignored", body: "/rollback addClaims", user: "wanda", perm: "write", action: "edited",
			wantLive: "second", wantNoReply: true},
		{name: "not a command", body: "looks good! /rollback addClaims", user: "wanda", perm: "write",
			wantLive: "second", wantNoReply: true},
		{name: "unknown command gets help", body: "/deploy everything", user: "wanda", perm: "write",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"unknown command.", "/make-live <workflow-id>"}},
		{name: "help", body: "/help", user: "rita", perm: "read",
			wantLive: "second", wantReaction: "eyes", wantReply: []string{"/rollback <workflow-id>"}},
		{name: "status", body: "/status", user: "wanda", perm: "write",
			wantLive: "second", wantReaction: "rocket", wantReply: []string{"environment `production`", "addClaims", "`$second`"}},
		{name: "deactivate", body: "/deactivate addClaims", user: "wanda", perm: "write",
			wantLive: "none", wantReaction: "rocket", wantReply: []string{"deactivated `addClaims`", "`$second` is now Deactivated"}, wantDeployState: "inactive"},
		{name: "make-live a given deployment", body: "/make-live addClaims $first", user: "wanda", perm: "write",
			wantLive: "first", wantReaction: "rocket", wantReply: []string{"made `$first`", "(was `$second`)"}, wantDeployState: "success"},
		{name: "make-live the live one", body: "/make-live addClaims", user: "wanda", perm: "write",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"already the live deployment"}},
		{name: "make-live of an unknown deployment", body: "/make-live addClaims dep_nope", user: "wanda", perm: "write",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"Nothing changed"}},
		{name: "rollback of an unknown workflow", body: "/rollback nope", user: "wanda", perm: "write",
			wantLive: "second", wantReaction: "confused", wantReply: []string{"not found", "Nothing changed"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) { o.MinPermission = c.minPerm })
			first, second := twoLive(t, h)
			if c.perm != "" {
				h.gh.SetPermission(testRepo, c.user, c.perm)
			}
			action := c.action
			if action == "" {
				action = "created"
			}
			userType := c.userType
			if userType == "" {
				userType = "User"
			}
			expand := strings.NewReplacer("$first", first, "$second", second)
			deploysBefore := len(h.gh.Deployments(testRepo))
			id := int64(5000 + i)
			if err := h.deliver("issue_comment", h.comment(action, expand.Replace(c.body), c.user, userType, id)); err != nil {
				t.Fatal(err)
			}
			h.noBodyErrors()
			want := map[string]string{"first": first, "second": second, "none": ""}[c.wantLive]
			if got := h.live("addClaims"); got != want {
				t.Errorf("live = %q, want %s (%q)", got, c.wantLive, want)
			}
			comments := h.gh.Comments(testRepo)
			reactions := h.gh.Reactions(testRepo)
			if c.wantNoReply {
				if len(comments) != 0 || len(reactions) != 0 {
					t.Fatalf("answered %v %v", comments, reactions)
				}
				return
			}
			if len(comments) != 1 {
				t.Fatalf("%d replies, want 1: %v", len(comments), comments)
			}
			if comments[0].Issue != 12 {
				t.Errorf("replied on #%d", comments[0].Issue)
			}
			for _, w := range c.wantReply {
				if w = expand.Replace(w); !strings.Contains(comments[0].Body, w) {
					t.Errorf("reply lacks %q:\n%s", w, comments[0].Body)
				}
			}
			if len(reactions) == 0 || reactions[len(reactions)-1].Content != c.wantReaction || reactions[0].Comment != id {
				t.Errorf("reactions %v, want the last %q on comment %d", reactions, c.wantReaction, id)
			}
			deps := h.gh.Deployments(testRepo)
			switch {
			case c.wantDeployState == "" && len(deps) != deploysBefore:
				t.Errorf("a GitHub deployment was recorded for a command that changed nothing: %+v", deps[len(deps)-1])
			case c.wantDeployState != "":
				if len(deps) != deploysBefore+1 {
					t.Fatalf("%d GitHub deployments, want one more than %d", len(deps), deploysBefore)
				}
				d := deps[len(deps)-1]
				if d.Environment != "production" || strings.Join(d.Statuses, ",") != c.wantDeployState {
					t.Errorf("deployment %+v, want production with %s", d, c.wantDeployState)
				}
			}
		})
	}
}

// A comment in a repository whose environment belongs to another
// repository can flip nothing there.
func TestCommandsOnlyReachTheRepositorysOwnEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	twoLive(t, h)
	h.gh.Install(testInst, "acme/other")
	h.gh.SetPermission("acme/other", "eve", "admin")
	p := h.comment("created", "/rollback addClaims", "eve", "User", 1)
	p = githubtest.Aim(t, p, map[string]any{"repository.id": 555, "repository.full_name": "acme/other", "repository.name": "other"})
	before := h.live("addClaims")
	if err := h.deliver("issue_comment", p); err != nil {
		t.Fatal(err)
	}
	if h.live("addClaims") != before {
		t.Fatal("a command in another repository flipped this one's environment")
	}
	cs := h.gh.Comments("acme/other")
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "not synced") {
		t.Fatalf("reply %v", cs)
	}
}
