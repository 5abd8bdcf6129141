package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes one line per diagnostic:
// `path:line:col: error: message [rule]`.
func WriteText(w io.Writer, ds []Diagnostic) error {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteGitHub writes one GitHub Actions workflow command per diagnostic,
// `::error file=…,line=…,col=…,title=…::message`, which GitHub shows as an
// annotation on that line. The rule id is the annotation's title.
func WriteGitHub(w io.Writer, ds []Diagnostic) error {
	var b strings.Builder
	for _, d := range ds {
		line, col := d.Pos()
		b.WriteString("::")
		b.WriteString(d.severity())
		b.WriteByte(' ')
		if d.File != "" {
			fmt.Fprintf(&b, "file=%s,", escapeProperty(d.File))
		}
		fmt.Fprintf(&b, "line=%d,col=%d,title=%s::%s\n", line, col, escapeProperty("flowgate "+d.Rule), escapeData(d.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeData escapes a workflow command's message.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value, where ':'
// and ',' would end the value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Workflow is what the JSON format lists about one discovered workflow.
type Workflow struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Trigger  string   `json:"trigger"`
	File     string   `json:"file"`
	Bindings []string `json:"bindings"`
}

// Report is the JSON document of `flowgate validate --format json`.
type Report struct {
	Workflows   []Workflow   `json:"workflows"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// WriteJSON writes the report as indented JSON. Lists are always arrays,
// never null, and positions are always 1-based.
func WriteJSON(w io.Writer, r Report) error {
	out := Report{Workflows: []Workflow{}, Diagnostics: []Diagnostic{}}
	for _, wf := range r.Workflows {
		if wf.Bindings == nil {
			wf.Bindings = []string{}
		}
		out.Workflows = append(out.Workflows, wf)
	}
	for _, d := range r.Diagnostics {
		d.Line, d.Column = d.Pos()
		d.Severity = d.severity()
		out.Diagnostics = append(out.Diagnostics, d)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
