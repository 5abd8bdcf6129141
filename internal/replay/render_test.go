package replay

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func goldenCheck(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// sampleReport has a changed workflow (with hostile values), an unchanged
// one and an unrouted event.
func sampleReport() *Report {
	return &Report{Events: 1250, Unrouted: 1, Workflows: []WorkflowReport{
		{WorkflowID: "addClaims", Trigger: workflow.UserTokenGeneration, Events: 1000, Changed: 12, DecisionsChanged: 2, ChangedPercent: 1.2,
			Categories:        map[Category]int{CatStatus: 2, CatClaimAdded: 10, CatClaimChanged: 3},
			CandidateFailures: map[workflow.ErrorKind]int{workflow.KindTimeout: 2}, BaselineFailures: map[workflow.ErrorKind]int{workflow.KindThrown: 1},
			Refused:   3,
			Candidate: Durations{P50: 1.25, P99: 9.5}, Baseline: Durations{P50: 1.2, P99: 8},
			Diffs: []Diff{
				{EventID: "ev_01", Category: CatStatus, Path: "status", Before: "succeeded", After: "failed (timeout)"},
				{EventID: "ev_02", Category: CatClaimAdded, Path: "accessToken.tier", After: "2"},
				{EventID: "ev_03", Category: CatClaimChanged, Path: `accessToken["a|b"]`, Before: "\"`x`\"", After: "\"<img src=x onerror=alert(1)>\""},
				{EventID: "ev\x1b[31m04", Category: CatClaimChanged, Path: "idToken.name", Before: `"a\\"`, After: `"` + strings.Repeat("é", 20) + `…`},
			}},
		{WorkflowID: "preMfa", Trigger: workflow.UserPreMFA, Events: 249, Candidate: Durations{P50: 0.5, P99: 0.7}, Baseline: Durations{P50: 0.5, P99: 0.8}},
		{WorkflowID: "ghost", Events: 1},
	}}
}

func TestRenderGolden(t *testing.T) {
	none := &Report{Events: 3, Workflows: []WorkflowReport{{WorkflowID: "w", Trigger: workflow.UserPreMFA, Events: 3}}}
	for _, c := range []struct {
		name string
		rep  *Report
	}{{"changed", sampleReport()}, {"none", none}, {"empty", &Report{}}} {
		t.Run(c.name, func(t *testing.T) {
			goldenCheck(t, c.name+".md.golden", c.rep.Markdown())
			goldenCheck(t, c.name+".txt.golden", c.rep.Text())
			if title := c.rep.Title(); strings.Contains(title, "\n") || !strings.Contains(c.rep.Markdown(), strings.TrimPrefix(title, "No behaviour change")) {
				t.Errorf("title %q does not match the Markdown's summary", title)
			}
		})
	}
}

// TestMarkdownFitsTheCheckRunLimit: however many workflows and diffs, the
// Markdown stays under GitHub's limit, dropping rows first and saying so.
func TestMarkdownFitsTheCheckRunLimit(t *testing.T) {
	for _, n := range []int{10, 300, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rep := &Report{Events: n * 100}
			for i := range n {
				w := WorkflowReport{WorkflowID: fmt.Sprintf("w%05d%s", i, strings.Repeat("x", 60)), Events: 100, Changed: 100,
					Categories: map[Category]int{CatClaimChanged: 100}}
				for j := range 100 {
					w.Diffs = append(w.Diffs, Diff{EventID: fmt.Sprintf("ev_%d_%d", i, j), Category: CatClaimChanged,
						Path: "accessToken.k", Before: strings.Repeat("b", MaxValueRunes), After: strings.Repeat("a", MaxValueRunes)})
				}
				rep.Workflows = append(rep.Workflows, w)
			}
			md := rep.Markdown()
			if len(md) > MaxCheckRunText {
				t.Fatalf("%d bytes, over %d", len(md), MaxCheckRunText)
			}
			if !strings.Contains(md, "changed outcome") {
				t.Errorf("the summary line was cut:\n%.300s", md)
			}
			if n >= 300 && !strings.Contains(md, "size limit") {
				t.Errorf("no note that the report was cut")
			}
		})
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		"":      "–",
		"plain": "`plain`",
		"a`b":   "``a`b``",
		"`x`":   "`` `x` ``",
		"a|b":   "`a\\|b`",
		"a\nb":  "`a\uFFFDb`",
		"<b>":   "`<b>`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}
