package githubapp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Slash command verbs.
const (
	CmdMakeLive   = "make-live"
	CmdRollback   = "rollback"
	CmdDeactivate = "deactivate"
	CmdStatus     = "status"
	CmdSync       = "sync"
	CmdDiff       = "diff"
	CmdHelp       = "help"
)

// Command is a slash command read from the first line of a comment.
type Command struct {
	Verb       string
	Workflow   string // make-live, rollback, deactivate; diff (optional)
	Deployment string // make-live only; empty means the newest good deployment
}

// HelpText is the reply to /help and to commands Flowgate does not know.
const HelpText = "Flowgate commands (first line of a new comment; write access to the repository needed to change anything):\n\n" +
	"- `/make-live <workflow-id> [<deployment-id>]` — make a deployment live (default: the newest good one)\n" +
	"- `/rollback <workflow-id>` — make the previous live deployment live again\n" +
	"- `/deactivate <workflow-id>` — stop running the workflow (no deployment is live)\n" +
	"- `/status` — what is live in this repository's environment\n" +
	"- `/sync` — sync the environment's last synced commit again (after deleting or deactivating a workflow)\n" +
	"- `/diff [<workflow-id>]` — in a pull request: replay recorded traffic against its build and the live deployments again (the \"Behaviour diff\" check run)\n" +
	"- `/help` — this text"

// maxLine bounds what is read of a comment's first line: commands are short.
const maxLine = 512

// ParseCommand reads a slash command from the first line of a comment body.
// ok is false when the comment is not addressed to Flowgate (its first line
// does not start with "/"); err says what is wrong with a command that is
// (an unknown verb, missing or extra arguments, a malformed id), and the
// caller answers it with the error and HelpText. Errors never quote the
// comment: the reply is Markdown, where links and @-mentions would work.
func ParseCommand(body string) (cmd Command, ok bool, err error) {
	line, _, _ := strings.Cut(body, "\n")
	line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
	if !strings.HasPrefix(line, "/") {
		return Command{}, false, nil
	}
	if len(line) > maxLine {
		return Command{}, true, fmt.Errorf("the command line is longer than %d characters", maxLine)
	}
	fields := strings.Fields(line[1:])
	if len(fields) == 0 {
		return Command{}, true, fmt.Errorf("no command after \"/\"")
	}
	verb, args := strings.ToLower(fields[0]), fields[1:]
	cmd.Verb = verb
	switch verb {
	case CmdStatus, CmdHelp, CmdSync:
		if len(args) != 0 {
			return Command{}, true, fmt.Errorf("/%s takes no arguments", verb)
		}
	case CmdRollback, CmdDeactivate:
		if len(args) != 1 {
			return Command{}, true, fmt.Errorf("usage: /%s <workflow-id>", verb)
		}
		cmd.Workflow = args[0]
	case CmdDiff:
		if len(args) > 1 {
			return Command{}, true, fmt.Errorf("usage: /diff, or /diff <workflow-id>")
		}
		if len(args) == 1 {
			cmd.Workflow = args[0]
		}
	case CmdMakeLive:
		if len(args) < 1 || len(args) > 2 {
			return Command{}, true, fmt.Errorf("usage: /make-live <workflow-id> [<deployment-id>]")
		}
		cmd.Workflow = args[0]
		if len(args) == 2 {
			cmd.Deployment = args[1]
			if !validDeploymentID(cmd.Deployment) {
				return Command{}, true, errors.New("the deployment id is not valid (letters, digits, '-' and '_')")
			}
		}
	default:
		return Command{Verb: verb}, true, errors.New("unknown command")
	}
	if cmd.Workflow != "" && !workflow.ValidID(cmd.Workflow) {
		return Command{}, true, errors.New("the workflow id is not valid (letters, digits, '.', '-' and '_')")
	}
	return cmd, true, nil
}

// validDeploymentID accepts the ids the control plane hands out: short
// runs of letters, digits, '-' and '_'.
func validDeploymentID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// truncate cuts s to n bytes on a rune boundary, for echoing user input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
