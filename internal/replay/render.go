package replay

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/flowgate/flowgate/internal/workflow"
)

// MaxCheckRunText is GitHub's limit on a check run's summary and text
// (characters; Markdown counts bytes, which is never fewer).
const MaxCheckRunText = 65535

// Markdown renders the report for a check run: a table of the workflows,
// then per workflow how many recorded events changed outcome and its
// first diffs as a table ("No behaviour change" when none). It fits
// MaxCheckRunText: diff rows are dropped (and said so) until it does, and
// past that the report is cut at a line with a note.
func (r *Report) Markdown() string {
	head := r.markdownHead()
	most := 0
	for _, w := range r.Workflows {
		most = max(most, len(w.Diffs))
	}
	for _, rows := range []int{most, 20, 10, 5, 3, 1, 0} {
		if rows > most {
			continue
		}
		var b strings.Builder
		b.WriteString(head)
		fits := b.Len() <= MaxCheckRunText
		for i := 0; fits && i < len(r.Workflows); i++ {
			b.WriteString(markdownSection(&r.Workflows[i], rows))
			fits = b.Len() <= MaxCheckRunText
		}
		if fits {
			return b.String()
		}
		if rows == 0 {
			return cutToLimit(b.String(), MaxCheckRunText)
		}
	}
	return cutToLimit(head, MaxCheckRunText) // not reached: rows 0 is always tried
}

// cutToLimit cuts s at a line boundary so that it and a closing note fit.
func cutToLimit(s string, limit int) string {
	const note = "\n\n_The rest of the report is cut to GitHub's size limit; run `flowgate test --replay` for all of it._\n"
	if len(s) <= limit {
		return s
	}
	s = s[:limit-len(note)]
	if i := strings.LastIndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	return s + note
}

// markdownHead is the summary and the table of workflows.
func (r *Report) markdownHead() string {
	var b strings.Builder
	changed := r.changedEvents()
	if changed == 0 {
		fmt.Fprintf(&b, "**No behaviour change** in %s.\n", plural(r.Events, "recorded event"))
	} else {
		fmt.Fprintf(&b, "**%s of %s changed outcome.**\n", count(changed), plural(r.Events, "recorded event"))
	}
	if r.Unrouted > 0 {
		fmt.Fprintf(&b, "\n%s matched no workflow in either build.\n", plural(r.Unrouted, "event"))
	}
	if len(r.Workflows) == 0 {
		return b.String()
	}
	b.WriteString("\n| Workflow | Events | Changed | Decisions changed | Unrecorded calls |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, w := range r.Workflows {
		fmt.Fprintf(&b, "| %s | %s | %s (%s%%) | %s | %s |\n", code(w.WorkflowID), count(w.Events), count(w.Changed),
			strconv.FormatFloat(w.ChangedPercent, 'f', 2, 64), count(w.DecisionsChanged), count(w.Refused))
	}
	return b.String()
}

// markdownSection is one workflow's section with at most rows diffs.
func markdownSection(w *WorkflowReport, rows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### %s", code(w.WorkflowID))
	if w.Trigger != "" && w.Trigger != w.WorkflowID {
		fmt.Fprintf(&b, " (%s)", code(w.Trigger))
	}
	b.WriteString("\n\n")
	if w.Changed == 0 {
		fmt.Fprintf(&b, "No behaviour change in %s.\n", plural(w.Events, "event"))
	} else {
		fmt.Fprintf(&b, "%s of %s changed outcome (%s in a decision).\n", count(w.Changed), plural(w.Events, "event"), count(w.DecisionsChanged))
		fmt.Fprintf(&b, "\nChanges: %s.\n", categories(w.Categories))
	}
	if f := failures(*w); f != "" {
		fmt.Fprintf(&b, "\nFailures: %s.\n", f)
	}
	fmt.Fprintf(&b, "\nDuration p50 / p99: baseline %s / %s ms, candidate %s / %s ms.\n",
		ms(w.Baseline.P50), ms(w.Baseline.P99), ms(w.Candidate.P50), ms(w.Candidate.P99))
	if w.Refused > 0 {
		verb := "were"
		if w.Refused == 1 {
			verb = "was"
		}
		fmt.Fprintf(&b, "\n%s not in the recordings %s refused.\n", plural(w.Refused, "outbound request"), verb)
	}
	n := min(rows, len(w.Diffs))
	if n == 0 {
		if len(w.Diffs) > 0 {
			b.WriteString("\n_Diffs left out to fit GitHub's size limit._\n")
		}
		return b.String()
	}
	b.WriteString("\n| Event | Path | Before | After |\n| --- | --- | --- | --- |\n")
	for _, d := range w.Diffs[:n] {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(d.EventID), code(d.Path), code(d.Before), code(d.After))
	}
	if total := total(w.Categories); total > n {
		fmt.Fprintf(&b, "\n_First %s of %s shown._\n", count(n), plural(total, "diff"))
	}
	return b.String()
}

// Title is the report in one line, for a check run's title: "No
// behaviour change in 4 recorded events", "2 of 4 recorded events changed outcome".
func (r *Report) Title() string {
	if n := r.changedEvents(); n > 0 {
		return fmt.Sprintf("%s of %s changed outcome", count(n), plural(r.Events, "recorded event"))
	}
	return "No behaviour change in " + plural(r.Events, "recorded event")
}

// Text renders the report for the CLI.
func (r *Report) Text() string {
	var b strings.Builder
	changed := r.changedEvents()
	if changed == 0 {
		fmt.Fprintf(&b, "behaviour diff: no behaviour change in %s\n", plural(r.Events, "recorded event"))
	} else {
		fmt.Fprintf(&b, "behaviour diff: %d of %s changed outcome\n", changed, plural(r.Events, "recorded event"))
	}
	if r.Unrouted > 0 {
		fmt.Fprintf(&b, "  %s matched no workflow in either build\n", plural(r.Unrouted, "event"))
	}
	for _, w := range r.Workflows {
		name := plain(w.WorkflowID)
		if w.Trigger != "" && w.Trigger != w.WorkflowID {
			name += " (" + plain(w.Trigger) + ")"
		}
		b.WriteString("\n")
		if w.Changed == 0 {
			fmt.Fprintf(&b, "%s: no behaviour change in %s\n", name, plural(w.Events, "event"))
		} else {
			fmt.Fprintf(&b, "%s: %d of %s changed outcome (%s%%), %d in a decision\n", name, w.Changed, plural(w.Events, "event"),
				strconv.FormatFloat(w.ChangedPercent, 'f', 2, 64), w.DecisionsChanged)
			fmt.Fprintf(&b, "  changes: %s\n", categories(w.Categories))
		}
		if f := failures(w); f != "" {
			fmt.Fprintf(&b, "  failures: %s\n", f)
		}
		if w.Refused > 0 {
			fmt.Fprintf(&b, "  refused: %s not in the recordings\n", plural(w.Refused, "outbound request"))
		}
		fmt.Fprintf(&b, "  duration p50/p99: baseline %s/%s ms, candidate %s/%s ms\n",
			ms(w.Baseline.P50), ms(w.Baseline.P99), ms(w.Candidate.P50), ms(w.Candidate.P99))
		for _, d := range w.Diffs {
			fmt.Fprintf(&b, "  %s  %s  %s → %s\n", plain(d.EventID), plain(d.Path), orNone(plain(d.Before)), orNone(plain(d.After)))
		}
		if total := total(w.Categories); total > len(w.Diffs) {
			fmt.Fprintf(&b, "  (first %d of %d diffs shown)\n", len(w.Diffs), total)
		}
	}
	return b.String()
}

func (r *Report) changedEvents() int {
	n := 0
	for _, w := range r.Workflows {
		n += w.Changed
	}
	return n
}

func total(m map[Category]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// categories lists the non-zero counts in report order: "status 1, claim-added 2".
func categories(m map[Category]int) string {
	var parts []string
	for _, c := range Categories {
		if n := m[c]; n > 0 {
			parts = append(parts, string(c)+" "+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, ", ")
}

// failures is "baseline timeout 2; candidate thrown 1", "" when neither failed.
func failures(w WorkflowReport) string {
	side := func(name string, m map[workflow.ErrorKind]int) string {
		if len(m) == 0 {
			return ""
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + strconv.Itoa(m[workflow.ErrorKind(k)])
		}
		return name + " " + strings.Join(parts, ", ")
	}
	var out []string
	for _, s := range []string{side("baseline", w.BaselineFailures), side("candidate", w.CandidateFailures)} {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}

// plural is "1 event", "1,234 events".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return count(n) + " " + noun + "s"
}

// count is n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// plain makes s one printable line: control and other non-printing
// characters (a terminal's escape sequences) become U+FFFD.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) && r != ' ' {
			return '\uFFFD'
		}
		return r
	}, s)
}

// code is s as a Markdown code span that is safe in a table cell: one
// line, fenced by more backticks than it holds in a row, "|" escaped
// (GitHub splits cells before it reads code spans). "" is shown as "–".
func code(s string) string {
	if s == "" {
		return "–"
	}
	s = strings.ReplaceAll(plain(s), "|", "\\|")
	run, longest := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasSuffix(s, "\\") {
		s = " " + s + " "
	}
	return fence + s + fence
}
