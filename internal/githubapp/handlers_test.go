package githubapp

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/flowgate/flowgate/internal/githubapp/githubtest"
	"github.com/google/go-github/v88/github"
)

// TestEventHandlersTakeRealPayloads: each registered event's real payload
// (@octokit/webhooks-examples) parses into the type its handler takes, and
// the webhook endpoint queues exactly the registered events.
func TestEventHandlersTakeRealPayloads(t *testing.T) {
	want := []string{"check_run", "check_suite", "installation", "installation_repositories", "issue_comment", "pull_request", "push"}
	var got []string
	for event, h := range eventHandlers {
		got = append(got, event)
		if !slices.Contains(h.Handles(), event) {
			t.Errorf("%s is registered to a handler whose Handles() is %v", event, h.Handles())
		}
		ev, err := github.ParseWebHook(event, githubtest.Example(t, event, ""))
		if err != nil {
			t.Fatalf("%s: %v", event, err)
		}
		if acc, ok := h.(interface{ accepts(any) bool }); !ok || !acc.accepts(ev) {
			t.Errorf("%s: the handler does not take %T", event, ev)
		}
		if !Handles(event) {
			t.Errorf("Handles(%q) = false", event)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("handled events %v, want %v", got, want)
	}
	for _, event := range []string{"star", "fork", "ping", "", "PUSH"} {
		if Handles(event) {
			t.Errorf("Handles(%q) = true", event)
		}
	}
}

// TestEventHandlerRefusesAnotherPayload: a payload of another type is a
// bad payload (not retried), never handed to the handler.
func TestEventHandlerRefusesAnotherPayload(t *testing.T) {
	called := false
	h := on[github.PushEvent]{"push", func(*App, context.Context, DeliveryArgs, *github.PushEvent) error { called = true; return nil }}
	err := h.Handle(context.Background(), nil, DeliveryArgs{Event: "push"}, &github.StarEvent{})
	var bad *badPayloadError
	if !errors.As(err, &bad) || called {
		t.Fatalf("err %v, called %v", err, called)
	}
}

func TestEventRegisteredTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a second handler for push was accepted")
		}
	}()
	register(on[github.PushEvent]{"push", nil}, on[github.PushEvent]{"push", nil})
}
