package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/flowgate/flowgate/internal/sampleevent"
	"github.com/flowgate/flowgate/internal/workflow"
)

var eventUsage = `Usage: flowgate event TRIGGER

Prints a sample event for TRIGGER as JSON, in the shape the auth server
sends (request and context, with context.workflow.trigger set). Save it and
edit it for "flowgate run --event FILE" or a *.test.json case:

  flowgate event user:tokens_generation > events/tokens.json

Triggers:
  ` + strings.Join(workflow.Triggers, "\n  ") + `

Exit status: 0 printed, 2 bad usage or an unknown trigger.
`

func runEvent(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("event", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, eventUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "flowgate event: %v\n\n%s", err, eventUsage)
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "flowgate event: name one trigger\n\n%s", eventUsage)
		return exitUsage
	}
	trigger := fs.Arg(0)
	ev, ok := sampleevent.JSON(trigger)
	if !ok {
		fmt.Fprintf(stderr, "flowgate event: unknown trigger %q\n\n%s", trigger, eventUsage)
		return exitUsage
	}
	fmt.Fprintln(stdout, ev)
	return exitOK
}
