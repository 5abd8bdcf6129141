package deploy

import (
	"fmt"
	"log/slog"

	"github.com/flowgate/flowgate/internal/store"
)

// maxLoggedDiagnostics bounds the lines one failed sync writes to the log;
// the sync record keeps every diagnostic.
const maxLoggedDiagnostics = 50

// logSyncOutcome writes a finished sync to the service log: one INFO line
// when it succeeded; when the repository has errors, a WARN line and one
// WARN line per diagnostic, located as file:line:col, so a person running
// the service sees what to fix without asking the API.
func logSyncOutcome(log *slog.Logger, a SyncArgs, res *SyncResult, attempt int) {
	sy := res.Sync
	base := []any{"env", a.Env, "commit", short(a.CommitSHA), "sync_id", sy.ID}
	if sy.Status != store.SyncFailed {
		log.Info("sync finished", append(base, "status", sy.Status, "deployments", len(res.Deployments), "attempt", attempt)...)
		return
	}
	errs := 0
	for _, e := range sy.Log {
		if e.Severity == "error" {
			errs++
		}
	}
	log.Warn("sync failed: nothing was deployed, what was live stays live", append(base, "errors", errs, "attempt", attempt)...)
	n := 0
	for _, e := range sy.Log {
		if e.Severity != "error" && e.Severity != "warning" {
			continue
		}
		if n == maxLoggedDiagnostics {
			log.Warn("sync diagnostics cut", append(base, "more", len(sy.Log)-n)...)
			break
		}
		n++
		log.Warn("sync diagnostic", append(base, "at", where(e), "severity", e.Severity, "message", e.Message,
			"rule", e.Rule, "workflow_id", e.WorkflowID)...)
	}
}

// where is a diagnostic's position as file:line:col (the file alone when
// it has no line, the workflow when it has no file).
func where(e store.SyncLogEntry) string {
	switch {
	case e.File == "":
		return e.WorkflowID
	case e.Line <= 0:
		return e.File
	}
	return fmt.Sprintf("%s:%d:%d", e.File, e.Line, max(e.Column, 1))
}
