package githubapp

import (
	"context"
	"fmt"

	"github.com/google/go-github/v88/github"
)

// EventHandler acts on deliveries of the events it Handles (as
// palantir/go-githubapp's handlers declare theirs). The handlers are
// registered once, in eventHandlers: the webhook endpoint queues exactly
// those events and the delivery job dispatches by them.
type EventHandler interface {
	Handles() []string
	Handle(ctx context.Context, a *App, d DeliveryArgs, event any) error
}

// handlers are the App's event handlers, in the order the App's manifest
// subscribes to their events. Adding an event is one line here plus its
// handler.
var handlers = []EventHandler{
	on[github.PushEvent]{"push", (*App).onPush},
	on[github.PullRequestEvent]{"pull_request", (*App).onPullRequest},
	on[github.IssueCommentEvent]{"issue_comment", (*App).onIssueComment},
	on[github.CheckRunEvent]{"check_run", (*App).onCheckRun},
	on[github.CheckSuiteEvent]{"check_suite", (*App).onCheckSuite},
	on[github.InstallationEvent]{"installation", func(a *App, ctx context.Context, _ DeliveryArgs, e *github.InstallationEvent) error {
		return a.onInstallation(ctx, e)
	}},
	on[github.InstallationRepositoriesEvent]{"installation_repositories", func(a *App, ctx context.Context, _ DeliveryArgs, e *github.InstallationRepositoriesEvent) error {
		return a.onInstallationRepositories(ctx, e)
	}},
}

// eventHandlers maps each event the App acts on to its handler.
var eventHandlers = register(handlers...)

// alwaysSent are events GitHub delivers to every App: a manifest cannot
// subscribe to them.
var alwaysSent = map[string]bool{"installation": true, "installation_repositories": true}

// subscribedEvents are the events the App's manifest subscribes to: every
// handled one that GitHub does not send anyway.
func subscribedEvents() []string {
	var out []string
	for _, h := range handlers {
		for _, ev := range h.Handles() {
			if !alwaysSent[ev] {
				out = append(out, ev)
			}
		}
	}
	return out
}

// Handles reports whether the App acts on event; others are acknowledged
// and dropped unread.
func Handles(event string) bool { return eventHandlers[event] != nil }

// on handles one event whose payload go-github parses as *E.
type on[E any] struct {
	event string
	fn    func(a *App, ctx context.Context, d DeliveryArgs, e *E) error
}

func (h on[E]) Handles() []string { return []string{h.event} }

func (h on[E]) Handle(ctx context.Context, a *App, d DeliveryArgs, event any) error {
	if !h.accepts(event) {
		return badPayload("%s: parsed as %T", d.Event, event)
	}
	return h.fn(a, ctx, d, event.(*E))
}

// accepts reports whether event is the payload type h handles.
func (h on[E]) accepts(event any) bool { _, ok := event.(*E); return ok }

// register indexes handlers by event; an event claimed twice is a
// programming error.
func register(hs ...EventHandler) map[string]EventHandler {
	m := map[string]EventHandler{}
	for _, h := range hs {
		for _, ev := range h.Handles() {
			if m[ev] != nil {
				panic(fmt.Sprintf("githubapp: event %q has two handlers", ev))
			}
			m[ev] = h
		}
	}
	return m
}
