package bindings

import (
	"fmt"
	"unicode/utf8"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Log caps per invocation: a workflow that logs in a loop must not grow
// the Result without bound.
const (
	MaxLogLines = 1000
	MaxLogBytes = 64 << 10
)

// log appends one redacted line to the Result, within the caps; the first
// line over a cap is replaced by a final "logs truncated" line.
func (inv *Invocation) log(level, msg string) {
	if inv.logsCut {
		return
	}
	// Redact first, then cut: a cut through a secret must not leave its
	// beginning behind.
	msg = cutUTF8(inv.Redact(msg), maxLine)
	if n := len(inv.res.Logs); n > 0 && inv.logLines > 0 {
		last := &inv.res.Logs[n-1]
		before := last.Message
		last.Message, msg = inv.redactSplit(last.Message, msg)
		inv.logBytes += len(last.Message) - len(before)
	}
	room := MaxLogBytes - inv.logBytes
	if inv.logLines >= MaxLogLines || len(msg) > room {
		if len(msg) > room && room > 0 && inv.logLines < MaxLogLines {
			inv.appendLog(level, cutUTF8(msg, room))
		}
		inv.logsCut = true
		inv.res.Logs = append(inv.res.Logs, workflow.Log{Level: "warn",
			Message: fmt.Sprintf("logs truncated: a workflow may log at most %d lines and %d bytes per run", MaxLogLines, MaxLogBytes)})
		return
	}
	inv.appendLog(level, msg)
}

func (inv *Invocation) appendLog(level, msg string) {
	inv.logLines++
	inv.logBytes += len(msg)
	inv.res.Logs = append(inv.res.Logs, workflow.Log{Level: level, Message: msg})
}

// cutUTF8 shortens s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
