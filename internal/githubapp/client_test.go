package githubapp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
)

// fakeGitHub starts the local GitHub (githubtest.Start) and returns it
// with the App's client factory.
func fakeGitHub(t testing.TB) (*githubtest.Server, *Clients) {
	t.Helper()
	gh := githubtest.Start(t)
	cl, err := NewClients(gh.AppID, gh.PEM(), gh.URL, nil, RetryPolicy{Base: time.Millisecond, Max: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return gh, cl
}

func TestClientsRetryAndCacheTokens(t *testing.T) {
	t.Parallel()
	gh, cl := fakeGitHub(t)
	gh.Fail(githubtest.Fault{Method: "POST", PathPrefix: "/repos/acme/flows/check-runs", Status: 502, Count: 1})
	gh.Fail(githubtest.Fault{Method: "POST", PathPrefix: "/repos/acme/flows/check-runs", Status: 403, RetryAfter: "0", Count: 1})
	gh.Fail(githubtest.Fault{Method: "POST", PathPrefix: "/app/installations", Status: 503, Count: 1})
	c := cl.Installation(7)
	ctx := context.Background()
	for i := range 3 {
		run, _, err := c.Checks.CreateCheckRun(ctx, "acme", "flows", github.CreateCheckRunOptions{Name: CheckSync, HeadSHA: "abc"})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		if run.GetID() == 0 {
			t.Fatal("no check run id")
		}
	}
	if got := len(gh.CheckRuns("acme/flows")); got != 3 {
		t.Fatalf("check runs = %d, want 3 (a retried request must not be lost or doubled)", got)
	}
	if n := gh.TokensIssued(); n != 1 {
		t.Fatalf("installation tokens issued = %d, want 1 (cached)", n)
	}
}

func TestClientsGiveUp(t *testing.T) {
	t.Parallel()
	gh, cl := fakeGitHub(t)
	gh.Fail(githubtest.Fault{PathPrefix: "/repos/acme/flows/check-runs", Status: 500, Count: 100})
	_, resp, err := cl.Installation(7).Checks.CreateCheckRun(context.Background(), "acme", "flows", github.CreateCheckRunOptions{Name: "x", HeadSHA: "a"})
	if err == nil || resp == nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("err = %v, resp = %v", err, resp)
	}
	tries := 0
	for _, r := range gh.Requests() {
		if r == "POST /repos/acme/flows/check-runs" {
			tries++
		}
	}
	if tries != 4 {
		t.Fatalf("tries = %d, want 4", tries)
	}
}

func TestNewClientsRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		id  int64
		key []byte
		url string
	}{
		"no id":   {0, nil, ""},
		"bad key": {1, []byte("not a key"), ""},
	} {
		if _, err := NewClients(c.id, c.key, c.url, nil, RetryPolicy{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
