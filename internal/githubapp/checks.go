package githubapp

import (
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
)

// Check run names, as people see them on a commit.
const (
	CheckSync  = "Flowgate sync"
	CheckBuild = "Flowgate build"
)

// GitHub's limits on a check run's output.
const (
	maxSummary        = 65535 // characters in summary and in text
	maxTitle          = 255
	maxAnnotationText = 64 << 10 // an annotation's message
	annotationBatch   = 50       // annotations per create/update request
)

// SyncReport is what one sync of a commit produced, as the check runs show
// it. It knows nothing of the store: the handler fills it from the
// control plane's sync result.
type SyncReport struct {
	Repo        string // owner/name
	SHA         string
	Environment string
	PreviewMode bool
	Workflows   []WorkflowLine
	Diagnostics []diag.Diagnostic
	LogURL      string // the full sync log, linked when the output is cut
	PullRequest bool   // a pull request check: validated and built, never deployed
}

// WorkflowLine is one workflow of the commit.
type WorkflowLine struct {
	ID, Name, Trigger, File string
	Deployment              string // empty when nothing was deployed
	Status                  string // the deployment's status (Live, Draft, …)
}

// CheckOutput is one check run's conclusion and output. Annotations come
// in batches of at most 50, the most GitHub takes per request: the first
// batch goes with the completing update, later ones in further updates.
type CheckOutput struct {
	Name        string
	Conclusion  string // success, failure
	Title       string
	Summary     string
	Annotations [][]Annotation
	// MakeLive offers the "Make live" button (requested_action): a good
	// build in an environment with preview mode on.
	MakeLive bool
	// Rerun offers the behaviour diff's "Run again" button.
	Rerun bool
}

// Annotation is one diagnostic placed on a file and line.
type Annotation struct {
	Path      string `json:"path"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
	Level     string `json:"annotation_level"` // failure, warning, notice
	Message   string `json:"message"`
	Title     string `json:"title"`
}

// buildRules are the diagnostics of bundling (the build check run); every
// other rule belongs to the sync check run.
var buildRules = map[string]bool{
	project.RuleBuildError:          true,
	project.RuleLinkOutsideRepo:     true,
	project.RuleMissingOutputBundle: true,
	project.RuleBuildCrashed:        true,
}

// SyncCheck renders the sync check run: the repository's layout,
// kinde.json and every workflow's settings.
func SyncCheck(r SyncReport) CheckOutput {
	ds := filter(r.Diagnostics, false)
	out := CheckOutput{Name: CheckSync}
	errs, warns := diag.Count(ds)
	var b strings.Builder
	switch {
	case errs > 0:
		out.Conclusion = "failure"
		out.Title = fmt.Sprintf("%s, %s", plural(errs, "error"), plural(warns, "warning"))
		fmt.Fprintf(&b, "Sync of `%s` found %s and %s. Nothing was deployed and nothing live changed.\n\n", short(r.SHA), plural(errs, "error"), plural(warns, "warning"))
	default:
		out.Conclusion = "success"
		out.Title = plural(len(r.Workflows), "workflow")
		if warns > 0 {
			out.Title += ", " + plural(warns, "warning")
		}
		fmt.Fprintf(&b, "Sync of `%s` found %s.\n\n", short(r.SHA), plural(len(r.Workflows), "workflow"))
	}
	if len(r.Workflows) > 0 {
		b.WriteString("| Workflow | Trigger | File |\n| --- | --- | --- |\n")
		for _, w := range r.Workflows {
			fmt.Fprintf(&b, "| %s | %s | `%s` |\n", orDash(w.ID), code(w.Trigger), cell(w.File))
		}
		b.WriteString("\n")
	}
	writeDiagnostics(&b, ds)
	out.Summary = finish(&b, r.LogURL)
	out.Annotations = annotations(ds)
	return out
}

// BuildCheck renders the build check run: bundles, deployments and what
// went live.
func BuildCheck(r SyncReport) CheckOutput {
	ds := filter(r.Diagnostics, true)
	out := CheckOutput{Name: CheckBuild}
	errs, _ := diag.Count(r.Diagnostics) // any error stops the whole deploy
	var b strings.Builder
	switch {
	case errs > 0:
		out.Conclusion = "failure"
		if n, _ := diag.Count(ds); n > 0 {
			out.Title = plural(n, "build error")
		} else {
			out.Title = "not deployed: the sync found errors"
		}
		b.WriteString("Nothing was deployed and nothing live changed.\n\n")
	case r.PullRequest:
		out.Conclusion = "success"
		out.Title = plural(len(r.Workflows), "workflow") + " built"
		b.WriteString("Every workflow bundled. Pull requests are checked, never deployed.\n\n")
	default:
		out.Conclusion = "success"
		live := 0
		for _, w := range r.Workflows {
			if w.Status == "Live" {
				live++
			}
		}
		out.Title = fmt.Sprintf("%s deployed, %d live", plural(len(r.Workflows), "workflow"), live)
		if r.PreviewMode {
			fmt.Fprintf(&b, "Environment `%s` is in preview mode: new deployments wait to be made live (the button above, or `/make-live <workflow-id>` in a comment).\n\n", cell(r.Environment))
			out.MakeLive = len(r.Workflows) > 0
		} else {
			fmt.Fprintf(&b, "Environment `%s`: new deployments went live.\n\n", cell(r.Environment))
		}
	}
	if len(r.Workflows) > 0 && errs == 0 {
		b.WriteString("| Workflow | Trigger | Deployment | Status |\n| --- | --- | --- | --- |\n")
		for _, w := range r.Workflows {
			dep := "—"
			if w.Deployment != "" {
				dep = "`" + cell(w.Deployment) + "`"
			}
			status := w.Status
			if status == "" {
				status = "built"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", orDash(w.ID), code(w.Trigger), dep, cell(status))
		}
		b.WriteString("\n")
	}
	writeDiagnostics(&b, ds)
	out.Summary = finish(&b, r.LogURL)
	out.Annotations = annotations(ds)
	return out
}

func filter(ds []diag.Diagnostic, build bool) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, d := range ds {
		if buildRules[d.Rule] == build {
			out = append(out, d)
		}
	}
	return out
}

func writeDiagnostics(b *strings.Builder, ds []diag.Diagnostic) {
	if len(ds) == 0 {
		return
	}
	b.WriteString("**Problems** (each is also an annotation on its line):\n\n")
	for _, d := range ds {
		line, col := d.Pos()
		fmt.Fprintf(b, "- `%s:%d:%d` %s: %s `[%s]`\n", cell(d.File), line, col, d.Severity, oneLine(d.Message), d.Rule)
	}
}

// finish cuts the summary to GitHub's limit, linking the full log.
func finish(b *strings.Builder, logURL string) string {
	s := b.String()
	if len(s) <= maxSummary {
		return s
	}
	tail := "\n\n… cut: the output is longer than GitHub allows."
	if logURL != "" {
		tail += " Full log: " + logURL
	}
	return cutUTF8(s, maxSummary-len(tail)) + tail
}

func annotations(ds []diag.Diagnostic) [][]Annotation {
	var batches [][]Annotation
	for i, d := range ds {
		if i%annotationBatch == 0 {
			batches = append(batches, nil)
		}
		line, _ := d.Pos()
		level := "failure"
		if !d.IsError() {
			level = "warning"
		}
		file := d.File
		if file == "" {
			file = "kinde.json"
		}
		a := Annotation{Path: file, StartLine: line, EndLine: line, Level: level,
			Message: cutUTF8(d.Message, maxAnnotationText), Title: cutUTF8(d.Rule, maxTitle)}
		batches[len(batches)-1] = append(batches[len(batches)-1], a)
	}
	return batches
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// cell makes text safe inside a Markdown table cell or code span.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

// orDash is a table cell that shows "—" for an unknown value (a workflow
// whose settings could not be read has no id).
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return cell(s)
}

// code is a code-span cell, or "—" when empty.
func code(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + cell(s) + "`"
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
