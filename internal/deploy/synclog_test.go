package deploy

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/store"
)

func TestLogSyncOutcome(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	args := SyncArgs{Env: "production", CommitSHA: "0123456789abcdef"}
	failed := &SyncResult{Sync: store.Sync{ID: "sync_1", Status: store.SyncFailed, Log: []store.SyncLogEntry{
		{WorkflowID: "claims", File: "kindeSrc/a.ts", Line: 3, Column: 7, Severity: "error", Rule: "build-error", Message: "Expected \";\""},
		{File: "kinde.json", Severity: "error", Rule: "invalid-kinde-json", Message: "not JSON"},
		{WorkflowID: "claims", Severity: "info", Message: "skipped"},
	}}}
	logSyncOutcome(log, args, failed, 1)
	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="sync failed: nothing was deployed, what was live stays live" env=production commit=0123456789ab sync_id=sync_1 errors=2`,
		`level=WARN msg="sync diagnostic" env=production commit=0123456789ab sync_id=sync_1 at=kindeSrc/a.ts:3:7 severity=error message="Expected \";\"" rule=build-error workflow_id=claims`,
		`at=kinde.json severity=error message="not JSON" rule=invalid-kinde-json`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks\n%s\nin\n%s", want, out)
		}
	}
	if strings.Contains(out, "skipped") || strings.Contains(out, "level=INFO") {
		t.Errorf("info entries or an INFO line for a failed sync:\n%s", out)
	}

	buf.Reset()
	logSyncOutcome(log, args, &SyncResult{Sync: store.Sync{ID: "sync_2", Status: store.SyncSucceeded}, Deployments: make([]Deployment, 2)}, 1)
	if !strings.Contains(buf.String(), `level=INFO msg="sync finished"`) || !strings.Contains(buf.String(), "deployments=2") {
		t.Errorf("succeeded sync:\n%s", buf.String())
	}

	buf.Reset()
	many := &SyncResult{Sync: store.Sync{Status: store.SyncFailed}}
	for range 80 {
		many.Sync.Log = append(many.Sync.Log, store.SyncLogEntry{File: "a.ts", Line: 1, Severity: "error", Message: "x"})
	}
	logSyncOutcome(log, args, many, 1)
	if n := strings.Count(buf.String(), `msg="sync diagnostic"`); n != maxLoggedDiagnostics || !strings.Contains(buf.String(), "more=30") {
		t.Errorf("80 diagnostics logged as %d lines:\n%s", n, buf.String())
	}
}
