// Package diag is the one diagnostics model Flowgate reports repository
// problems with: the CLI, the GitHub Action and the GitHub App all render the
// same Diagnostic values, as text, GitHub workflow commands or JSON.
package diag

import (
	"cmp"
	"fmt"
	"slices"
)

// Severities.
const (
	Error   = "error"
	Warning = "warning"
)

// Diagnostic is one finding about a repository.
//
// File is relative to the repository root and slash-separated. Line and
// Column are 1-based positions in the original source (columns count
// characters). A diagnostic about a whole file has Line and Column 1; one
// about the repository as a whole names kinde.json, the file that says where
// workflows live. Renderers treat a zero Line or Column as 1.
type Diagnostic struct {
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Errorf builds an error diagnostic whatever its rule. Code that reports a
// problem uses New, which takes the severity from the rule table; Errorf and
// Warnf are for tests and renderers that need a given severity.
func Errorf(rule, file string, line, col int, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Rule: rule, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// Warnf builds a warning diagnostic.
func Warnf(rule, file string, line, col int, format string, args ...any) Diagnostic {
	d := Errorf(rule, file, line, col, format, args...)
	d.Severity = Warning
	return d
}

// IsError reports whether d is an error (not a warning).
func (d Diagnostic) IsError() bool { return d.Severity != Warning }

// Pos returns the line and column to show, 1 for an unknown position.
func (d Diagnostic) Pos() (line, col int) {
	return max(d.Line, 1), max(d.Column, 1)
}

// String renders d the way the text format does.
func (d Diagnostic) String() string {
	line, col := d.Pos()
	file := d.File
	if file == "" {
		file = "."
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s [%s]", file, line, col, d.severity(), d.Message, d.Rule)
}

func (d Diagnostic) severity() string {
	if d.IsError() {
		return Error
	}
	return Warning
}

// Compare orders diagnostics by file, line, column, rule, then message, so
// every renderer prints them in the same stable order.
func Compare(a, b Diagnostic) int {
	al, ac := a.Pos()
	bl, bc := b.Pos()
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(al, bl),
		cmp.Compare(ac, bc),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Message, b.Message),
	)
}

// Sort sorts ds in place in the stable order of Compare.
func Sort(ds []Diagnostic) { slices.SortStableFunc(ds, Compare) }

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	return slices.ContainsFunc(ds, Diagnostic.IsError)
}

// Count returns the number of errors and warnings.
func Count(ds []Diagnostic) (errors, warnings int) {
	for _, d := range ds {
		if d.IsError() {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}
