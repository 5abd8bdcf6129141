package wftest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Match compares a case's expect with the actual Result (both decoded from
// JSON) and returns one readable line per difference. Objects match when
// every expected key matches (extra keys are fine; an expected null also
// matches an absent key); arrays need the same length and matching items;
// the top-level "logs" only need to contain the expected entries, in order.
func Match(expect, actual map[string]any) []string {
	var diffs []string
	if _, ok := expect["status"]; !ok && actual["status"] != "succeeded" {
		// A case that does not name a status expects the run to succeed.
		diffs = append(diffs, fmt.Sprintf(`status: want "succeeded", got %s`, show(actual["status"])))
	}
	for _, k := range sortedKeys(expect) {
		if k == "logs" {
			diffs = append(diffs, matchLogs(expect[k], actual[k])...)
			continue
		}
		got, present := actual[k]
		diffs = append(diffs, matchValue(k, expect[k], got, present)...)
	}
	return diffs
}

func matchValue(path string, want, got any, present bool) []string {
	if want == nil {
		if present && got != nil {
			return []string{fmt.Sprintf("%s: want absent or null, got %s", path, show(got))}
		}
		return nil
	}
	if !present {
		return []string{fmt.Sprintf("%s: want %s, got nothing (absent)", path, show(want))}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object %s, got %s", path, show(want), show(got))}
		}
		var diffs []string
		for _, k := range sortedKeys(w) {
			gv, ok := g[k]
			diffs = append(diffs, matchValue(path+"."+k, w[k], gv, ok)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, matchValue(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], true)...)
		}
		return diffs
	}
	if want != got { // strings, float64 numbers, booleans
		return []string{fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got))}
	}
	return nil
}

// matchLogs checks that every expected log entry matches an actual one, in
// order, other lines allowed in between.
func matchLogs(want, got any) []string {
	w, ok := want.([]any)
	if !ok {
		return []string{fmt.Sprintf("logs: want a list of {\"level\", \"message\"} entries, got %s in the test", show(want))}
	}
	g, _ := got.([]any)
	next := 0
	for i, entry := range w {
		found := false
		for ; next < len(g); next++ {
			if len(matchValue("", entry, g[next], true)) == 0 {
				found, next = true, next+1
				break
			}
		}
		if !found {
			return []string{fmt.Sprintf("logs[%d]: want an entry matching %s (in this order), the logs are:%s", i, show(entry), logLines(g))}
		}
	}
	return nil
}

func logLines(g []any) string {
	if len(g) == 0 {
		return " none"
	}
	var b strings.Builder
	for _, l := range g {
		b.WriteString("\n    " + show(l))
	}
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// show renders a value as compact JSON.
func show(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
