package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/replay"
)

// TestRecordingCommand drives `flowgate recording` against the real
// service: what users read is golden (testdata/recording.golden).
func TestRecordingCommand(t *testing.T) {
	t.Parallel()
	s := startService(t)
	var all strings.Builder
	step := func(args ...string) string {
		t.Helper()
		code, out, errs := s.flowgate(t, append([]string{"recording"}, args...)...)
		all.WriteString("$ flowgate recording " + strings.Join(args, " ") + "\n" + transcript(out, errs, code) + "\n")
		return out
	}
	step()
	step("enable", "claims", "--sample-rate", "0.25", "--retention-days", "7")
	step("enable", "other")
	step("disable", "other")
	step("enable", "claims", "--sample-rate", "1.5")  // refused by the server
	step("enable", "claims", "--sample-rate", "-0.1") // refused by the server
	step("enable")                                    // no workflow: usage

	// Two stored recordings to export (the trigger path's queue is
	// covered by the server's tests; here the export's shape matters).
	ctx := context.Background()
	for _, ev := range []string{`{"n":1}`, `{"n":2}`} {
		if _, err := s.app.Deploy().AddRecording(ctx, "production", replay.Recorded{WorkflowID: "claims", Trigger: "user:tokens_generation", Event: json.RawMessage(ev)}, 10); err != nil {
			t.Fatal(err)
		}
	}
	step("status")
	code, out, errs := s.flowgate(t, "recording", "export", "--workflow", "claims")
	var events []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r replay.Recorded
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		events = append(events, string(r.Event))
	}
	if code != 0 || strings.Join(events, " ") != `{"n":2} {"n":1}` {
		t.Fatalf("export: %d %q %s", code, out, errs)
	}
	file := filepath.Join(t.TempDir(), "rec.jsonl")
	if code, _, errs := s.flowgate(t, "recording", "export", "--out", file); code != 0 {
		t.Fatalf("export --out: %d %s", code, errs)
	}
	if b, err := os.ReadFile(file); err != nil || strings.Count(string(b), "\n") != 2 {
		t.Fatalf("export file: %q %v", b, err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v", st.Mode().Perm())
	}

	step("delete-all")
	step("delete-all", "--yes")
	step("disable")
	step("export")
	goldenCheck(t, "recording.golden", stable(all.String(), s.url, "URL"))

	// The export needs the admin token like every management read.
	code, _, errs = s.flowgate(t, "recording", "export", "--token", "wrong")
	if code != exitProblems || !strings.Contains(errs, "admin token") {
		t.Fatalf("export with a wrong token: %d %s", code, errs)
	}
}
