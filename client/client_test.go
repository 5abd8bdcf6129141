package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgate/flowgate/client"
	"github.com/flowgate/flowgate/internal/adapters/adapterstest"
)

// The examples and tests call one real Flowgate serving these workflows.
const tokensWorkflow = `
export const workflowSettings = {
  id: "clientTokens",
  trigger: "user:tokens_generation",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.accessToken": {}, "kinde.idToken": {}, "kinde.auth": {}, "kinde.fetch": {} },
};
export default async function (event: any) {
  const id: string = event.context.user.id;
  if (id.startsWith("banned")) { kinde.auth.denyAccess("This account is suspended."); return; }
  if (id === "fail") throw new Error("the workflow broke");
  if (id === "slow") kinde.fetch("SLOW_URL", { method: "GET", responseFormat: "text" });
  kinde.accessToken.setCustomClaim("plan", "pro");
  kinde.idToken.setCustomClaim("org", event.context.organization?.code ?? "none");
}
`

const m2mWorkflow = `
export const workflowSettings = {
  id: "clientM2M",
  trigger: "m2m:token_generation",
  failurePolicy: { action: "continue" },
  bindings: { "kinde.m2mToken": {} },
};
export default async function (event: any) {
  if (event.context.application.clientId === "fail") throw new Error("the workflow broke");
  kinde.m2mToken.setCustomClaim("tier", "gold");
}
`

var fg *adapterstest.Flowgate

func TestMain(m *testing.M) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	u, _ := url.Parse(slow.URL)
	dir, err := os.MkdirTemp("", "flowgate-client-test")
	if err != nil {
		panic(err)
	}
	var stop func()
	fg, stop, err = adapterstest.Start(dir, map[string]string{
		"kindeSrc/environment/workflows/tokensWorkflow.ts": strings.ReplaceAll(tokensWorkflow, "SLOW_URL", slow.URL),
		"kindeSrc/environment/workflows/m2mWorkflow.ts":    m2mWorkflow,
	}, []string{u.Host}, "clientTokens", "clientM2M")
	if err != nil {
		fmt.Fprintln(os.Stderr, "start Flowgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	close(release)
	stop()
	slow.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func userEvent(id string) client.Event {
	return client.Event{Context: client.Context{
		User:         &client.User{ID: id},
		Organization: &client.Organization{Code: "org_1"},
		Application:  &client.Application{ClientID: "web"},
	}}
}

func TestTrigger(t *testing.T) {
	fgc := client.New(fg.URL, fg.RuntimeToken)
	cases := []struct {
		name, trigger string
		event         any
		want          client.Decision
		wantStatus    string
	}{
		{"claims", client.TriggerTokensGeneration, userEvent("kp_1"), client.Decision{Allow: true,
			AccessTokenClaims: map[string]any{"plan": "pro"}, IDTokenClaims: map[string]any{"org": "org_1"}}, "succeeded"},
		{"a pointer to an Event works too", client.TriggerTokensGeneration, ptr(userEvent("kp_1")), client.Decision{Allow: true,
			AccessTokenClaims: map[string]any{"plan": "pro"}, IDTokenClaims: map[string]any{"org": "org_1"}}, "succeeded"},
		{"denied", client.TriggerTokensGeneration, userEvent("banned-1"), client.Decision{Message: "This account is suspended."}, "succeeded"},
		{"failed, policy stop", client.TriggerTokensGeneration, userEvent("fail"), client.Decision{Failed: true, Message: client.FailedMessage}, "failed"},
		{"failed, policy continue", client.TriggerM2MTokenGeneration,
			client.Event{Context: client.Context{Application: &client.Application{ClientID: "fail"}}}, client.Decision{Allow: true, Failed: true}, "failed"},
		{"m2m claims", client.TriggerM2MTokenGeneration,
			map[string]any{"request": map[string]any{}, "context": map[string]any{"application": map[string]any{"clientId": "svc"}}},
			client.Decision{Allow: true, M2MTokenClaims: map[string]any{"tier": "gold"}}, "succeeded"},
		{"no live workflow", client.TriggerPreMFA, client.Event{}, client.Decision{Allow: true}, "skipped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := fgc.Trigger(context.Background(), "production", tc.trigger, tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.wantStatus {
				t.Fatalf("status %s, want %s (%+v)", res.Status, tc.wantStatus, res.Error)
			}
			if got := res.Decide(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("decision\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestTriggerConfigurationMistakes(t *testing.T) {
	cases := []struct {
		name, token, env, trigger string
		status                    int
	}{
		{"wrong token", "nope", "production", client.TriggerTokensGeneration, 401},
		{"unknown trigger", fg.RuntimeToken, "production", "user:made_up", 404},
		{"bad environment", fg.RuntimeToken, "no/such", client.TriggerTokensGeneration, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := client.New(fg.URL, tc.token).Trigger(context.Background(), tc.env, tc.trigger, userEvent("kp_1"))
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status || res != nil {
				t.Fatalf("got %v, %v; want an APIError with status %d", res, err, tc.status)
			}
			if strings.Contains(err.Error(), fg.RuntimeToken) {
				t.Fatal("the error shows the token")
			}
		})
	}
}

// countingClient counts the connections an HTTP client dials.
func countingClient(dials *atomic.Int32) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}}}
}

func TestUnavailable(t *testing.T) {
	t.Run("unreachable: retried, then the unavailable policy decides", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		for _, policy := range []string{client.PolicyStop, client.PolicyContinue} {
			var dials atomic.Int32
			c := client.New("http://"+addr, "tok", client.WithUnavailablePolicy(policy), client.WithRetries(2), client.WithHTTPClient(countingClient(&dials)))
			res, err := c.Trigger(context.Background(), "production", client.TriggerTokensGeneration, userEvent("kp_1"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Error == nil || res.Error.Kind != client.KindUnavailable || res.FailurePolicy != policy {
				t.Fatalf("got %+v", res)
			}
			if d := res.Decide(); d.Allow != (policy == client.PolicyContinue) || !d.Failed {
				t.Fatalf("policy %s: decision %+v", policy, d)
			}
			if n := dials.Load(); n != 3 {
				t.Fatalf("dialed %d times, want 1 + 2 retries", n)
			}
		}
	})
	t.Run("too slow: never retried (the workflow may have run), the unavailable policy decides", func(t *testing.T) {
		var dials atomic.Int32
		c := client.New(fg.URL, fg.RuntimeToken, client.WithTimeout(300*time.Millisecond), client.WithHTTPClient(countingClient(&dials)))
		res, err := c.Trigger(context.Background(), "production", client.TriggerTokensGeneration, userEvent("slow"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Error == nil || res.Error.Kind != client.KindUnavailable || res.Decide().Allow {
			t.Fatalf("got %+v", res)
		}
		if n := dials.Load(); n != 1 {
			t.Fatalf("dialed %d times, want 1", n)
		}
	})
	t.Run("connections are reused", func(t *testing.T) {
		var dials atomic.Int32
		c := client.New(fg.URL, fg.RuntimeToken, client.WithHTTPClient(countingClient(&dials)))
		for range 5 {
			if _, err := c.Trigger(context.Background(), "production", client.TriggerTokensGeneration, userEvent("kp_1")); err != nil {
				t.Fatal(err)
			}
		}
		if n := dials.Load(); n != 1 {
			t.Fatalf("5 sequential calls dialed %d connections, want 1", n)
		}
	})
}
