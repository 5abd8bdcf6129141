package githubapp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// An outage of GitHub after the sync leaves the sync and the live pointer
// as they are; the retried job reports the same sync without deploying
// again.
func TestGitHubOutageAfterTheSyncIsRetriedWithoutDeployingTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s, push := h.commit("one", starter("gold"))
	// Two in_progress updates pass, then every attempt at completing fails.
	h.gh.Fail(githubtest.Fault{Method: "PATCH", PathPrefix: "/repos/acme/flows/check-runs/", After: 2, Status: 502, Count: 4})
	at := time.Now().UTC().Truncate(time.Microsecond)
	if err := h.deliverAs("d-outage", "push", push, at); err == nil {
		t.Fatal("the job succeeded while GitHub was down")
	}
	live := h.live("addClaims")
	syncs, _ := h.svc.Syncs(context.Background(), "production", 10)
	if live == "" || len(syncs) != 1 || syncs[0].Status != "succeeded" {
		t.Fatalf("after the outage: live %q, syncs %+v", live, syncs)
	}
	// River retries the same job: same delivery, same time.
	if err := h.deliverAs("d-outage", "push", push, at); err != nil {
		t.Fatal(err)
	}
	syncs, _ = h.svc.Syncs(context.Background(), "production", 10)
	deps, _ := h.svc.Deployments(context.Background(), "production", "addClaims", 10)
	if len(syncs) != 1 || len(deps) != 1 || h.live("addClaims") != live {
		t.Fatalf("the retry deployed again: %d syncs, %d deployments, live %s (was %s)", len(syncs), len(deps), h.live("addClaims"), live)
	}
	cs := h.checks(s)
	if cs[CheckSync].Conclusion != "success" || cs[CheckBuild].Conclusion != "success" {
		t.Fatalf("after the retry: %+v", cs)
	}
	if n := len(h.gh.CheckRuns(testRepo)); n != 2 {
		t.Errorf("%d check runs, want the first attempt's 2 completed by the retry", n)
	}
	if d := h.gh.Deployments(testRepo); len(d) != 1 {
		t.Errorf("%d GitHub deployments, want 1", len(d))
	}
	h.noBodyErrors()
}

// An outage before the sync (the archive cannot be fetched) changes
// nothing; the check runs say a retry follows, and the retry deploys.
func TestGitHubOutageBeforeTheSync(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s, push := h.commit("one", starter("gold"))
	h.gh.Fail(githubtest.Fault{Method: "GET", PathPrefix: "/repos/acme/flows/tarball/", Status: 503, Count: 4})
	at := time.Now().UTC().Truncate(time.Microsecond)
	if err := h.deliverAs("d-1", "push", push, at); err == nil {
		t.Fatal("the job succeeded without the commit")
	}
	if h.live("addClaims") != "" {
		t.Fatal("something went live without the commit")
	}
	for _, c := range h.checks(s) {
		if c.Conclusion != "neutral" || !strings.Contains(c.Title, "retrying") {
			t.Errorf("%s: %q %q, want neutral 'retrying'", c.Name, c.Conclusion, c.Title)
		}
	}
	if err := h.deliverAs("d-1", "push", push, at); err != nil {
		t.Fatal(err)
	}
	if h.live("addClaims") == "" {
		t.Fatal("the retry did not deploy")
	}
	if c := h.checks(s)[CheckBuild]; c.Conclusion != "success" {
		t.Fatalf("the newest build check run is %q", c.Conclusion)
	}
}

// 5xx answers and rate limits within the retry budget are invisible.
func TestTransientGitHubErrorsAreRetried(t *testing.T) {
	t.Parallel()
	faults := []githubtest.Fault{
		{Method: "POST", PathPrefix: "/repos/acme/flows/check-runs", Status: 502, Count: 2},
		{Method: "POST", PathPrefix: "/repos/acme/flows/check-runs", Status: 403, RetryAfter: "0", Count: 1},
		{Method: "PATCH", PathPrefix: "/repos/acme/flows/check-runs/", Status: 429, RetryAfter: "0", Count: 2},
		{Method: "POST", PathPrefix: "/app/installations/", Status: 500, Count: 1},
		{Method: "GET", PathPrefix: "/_codeload/", Status: 503, Count: 1},
		{Method: "POST", PathPrefix: "/repos/acme/flows/deployments", Status: 502, Count: 2},
	}
	for _, f := range faults {
		t.Run(f.Method+" "+f.PathPrefix, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) { o.Download = retryingDownload() })
			h.gh.Fail(f)
			s, push := h.commit("one", starter("gold"))
			if err := h.deliver("push", push); err != nil {
				t.Fatal(err)
			}
			if h.live("addClaims") == "" || h.checks(s)[CheckBuild].Conclusion != "success" {
				t.Fatal("a transient fault stopped the sync")
			}
			if d := h.gh.Deployments(testRepo); len(d) != 1 || len(d[0].Statuses) != 1 {
				t.Fatalf("GitHub deployments %+v", d)
			}
		})
	}
}

// Secrets of the environment never reach check runs or comments, even when
// a workflow throws one at its top level or a pull request quotes it.
func TestSecretsNeverReachGitHub(t *testing.T) {
	t.Parallel()
	const secret = "sk_live_9f8e7d6c5b4a"
	h := newHarness(t)
	ctx := context.Background()
	h.svc.EnsureEnvironment(ctx, "production")
	if err := h.svc.PutVariable(ctx, "production", "API_KEY", secret, true); err != nil {
		t.Fatal(err)
	}
	twoLive(t, h)
	leaky := starter("gold")
	leaky[wfPath] = `const key = "` + secret + `";
throw new Error("cannot start with key " + key);
export const workflowSettings = { id: "addClaims", trigger: "user:tokens_generation", bindings: { "kinde.env": {} } };
export default async function f() { console.log(kinde.env.get("API_KEY").value); }
declare const kinde: any;
`
	s, push := h.commit("leaky", leaky)
	if err := h.deliver("push", push); err != nil {
		t.Fatal(err)
	}
	prSHA := githubtest.SHA("leaky-pr")
	h.gh.Commit(t, testRepo, prSHA, leaky)
	if err := h.deliver("pull_request", h.pr("opened", prSHA, "mallory/flows")); err != nil {
		t.Fatal(err)
	}
	h.gh.SetPermission(testRepo, "wanda", "write")
	for i, body := range []string{"/status", "/make-live addClaims " + secret, "/rollback addClaims"} {
		if err := h.deliver("issue_comment", h.comment("created", body, "wanda", "User", int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if h.checks(s)[CheckSync].Conclusion != "failure" {
		t.Fatalf("the throwing workflow passed: %+v", h.checks(s))
	}
	redactedSeen := false
	for _, c := range h.gh.CheckRuns(testRepo) {
		all := c.Title + c.Summary
		for _, a := range c.Annotations {
			all += a["message"].(string) + a["title"].(string)
		}
		if strings.Contains(all, secret) {
			t.Fatalf("secret in check run %q:\n%s", c.Name, all)
		}
		redactedSeen = redactedSeen || strings.Contains(all, redacted)
	}
	if !redactedSeen {
		t.Error("no check run shows [redacted]: did the diagnostic lose the message?")
	}
	for _, c := range h.gh.Comments(testRepo) {
		if strings.Contains(c.Body, secret) {
			t.Fatalf("secret in a comment:\n%s", c.Body)
		}
	}
	for _, d := range h.gh.Deployments(testRepo) {
		if strings.Contains(d.Description, secret) {
			t.Fatalf("secret in a deployment description: %s", d.Description)
		}
	}
}

// A delivery whose payload cannot be read is dropped, not retried.
func TestBadPayloadIsNotRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct{ event, body string }{
		{"push", `{"ref": 1}`},
		{"push", `{"ref": "refs/heads/main", "after": "../../etc", "repository": {"name": "flows", "owner": {"login": "acme"}, "default_branch": "main"}, "installation": {"id": 7}, "commits": []}`},
		{"push", `{"ref": "refs/heads/main", "after": "abc1234", "repository": {"name": "../x", "owner": {"login": "acme"}, "default_branch": "main"}, "installation": {"id": 7}}`},
		{"pull_request", `{"action": "opened", "repository": null}`},
	} {
		err := h.deliver(c.event, []byte(c.body))
		var bad *badPayloadError
		if !errors.As(err, &bad) {
			t.Errorf("%s %s: %v, want a bad payload error", c.event, c.body, err)
		}
	}
}
