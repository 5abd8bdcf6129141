package project

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/flowgate/flowgate/internal/diag"
)

// locator points settings-level diagnostics at the line of the original
// workflow file where the setting is written. It searches the text, which
// is exact for the usual `export const workflowSettings = {…}` and falls
// back to the workflowSettings declaration, then to line 1.
type locator struct {
	file        string
	src         []byte
	settingsOff int // offset of the workflowSettings declaration, -1 if not found
}

// at is a 1-based line and column.
type at struct{ line, col int }

var (
	settingsDecl = regexp.MustCompile(`\b(?:const|let|var)\s+(workflowSettings)\b`)
	settingsAny  = regexp.MustCompile(`\bworkflowSettings\b`)
	defaultDecl  = regexp.MustCompile(`\bexport\s+default\b|\bexports\.default\b|\bmodule\.exports\b`)
	triggerValue = regexp.MustCompile(`\btrigger["']?\s*:\s*([A-Za-z_$][\w$]*(?:\s*\??\.\s*[A-Za-z_$][\w$]*)*)`)
)

func newLocator(file string, src []byte) *locator {
	l := &locator{file: file, src: src, settingsOff: -1}
	if m := settingsDecl.FindSubmatchIndex(src); m != nil {
		l.settingsOff = m[2]
	} else if m := settingsAny.FindIndex(src); m != nil {
		l.settingsOff = m[0]
	}
	return l
}

func (l *locator) pos(off int) at {
	line, col := position(l.src, off)
	return at{line, col}
}

// settings is where workflowSettings is declared.
func (l *locator) settings() at {
	if l.settingsOff < 0 {
		return at{1, 1}
	}
	return l.pos(l.settingsOff)
}

// after finds re's first match (its first group when it has one) after
// the workflowSettings declaration.
func (l *locator) after(re *regexp.Regexp) (int, bool) {
	if l.settingsOff < 0 {
		return 0, false
	}
	m := re.FindSubmatchIndex(l.src[l.settingsOff:])
	if m == nil {
		return 0, false
	}
	if len(m) >= 4 && m[2] >= 0 {
		return l.settingsOff + m[2], true
	}
	return l.settingsOff + m[0], true
}

// key is where a workflowSettings key is written.
func (l *locator) key(k string) at {
	re := regexp.MustCompile(`(?:^|[\s{,])(["']?` + regexp.QuoteMeta(k) + `["']?\s*:)`)
	if off, ok := l.after(re); ok {
		return l.pos(off)
	}
	return l.settings()
}

// binding is where a binding name is written in workflowSettings.bindings.
func (l *locator) binding(name string) at {
	re := regexp.MustCompile(`(["']` + regexp.QuoteMeta(name) + `["'])`)
	if off, ok := l.after(re); ok {
		return l.pos(off)
	}
	return l.key(name)
}

// defaultExport is where the default export is written.
func (l *locator) defaultExport() at {
	if m := defaultDecl.FindIndex(l.src); m != nil {
		return l.pos(m[0])
	}
	return at{1, 1}
}

// triggerExpr is the expression written as the trigger, such as
// "WorkflowTrigger.UserTokenGeneration", or "" for a literal or none.
func (l *locator) triggerExpr() string {
	if off, ok := l.after(triggerValue); ok {
		end := off
		for end < len(l.src) && (isIdent(l.src[end]) || strings.IndexByte(" \t.?", l.src[end]) >= 0) {
			end++
		}
		return strings.NewReplacer(" ", "", "\t", "", "?", "").Replace(strings.TrimSpace(string(l.src[off:end])))
	}
	return ""
}

func isIdent(b byte) bool {
	return b == '_' || b == '$' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// report is a diagnostic of rule at a, with the rule's severity.
func (l *locator) report(rule string, a at, format string, args ...any) diag.Diagnostic {
	return diag.New(rule, l.file, a.line, a.col, format, args...)
}

// suggest returns the candidate closest to s when it is at most maxDist
// edits away (case-insensitive), or one that contains s or is contained in it.
func suggest(s string, candidates []string, maxDist int) string {
	ls := strings.ToLower(s)
	best, bestDist := "", maxDist+1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if d := distance(ls, lc); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return best
	}
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if len(ls) >= 6 && (strings.Contains(ls, lc) || strings.Contains(lc, ls)) {
			return c
		}
	}
	return ""
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// quoteList renders names as "a", "b" and "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
