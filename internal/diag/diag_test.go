package diag

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

func TestSortIsByFileLineColumnRule(t *testing.T) {
	ds := []Diagnostic{
		Errorf("b-rule", "b.ts", 1, 1, "x"),
		Errorf("z-rule", "a.ts", 2, 1, "x"),
		Errorf("a-rule", "a.ts", 10, 1, "x"),
		Errorf("b-rule", "a.ts", 2, 1, "x"),
		Errorf("a-rule", "a.ts", 2, 5, "x"),
		Errorf("no-pos", "a.ts", 0, 0, "x"),
	}
	Sort(ds)
	var got []string
	for _, d := range ds {
		got = append(got, d.String())
	}
	want := []string{
		"a.ts:1:1: error: x [no-pos]",
		"a.ts:2:1: error: x [b-rule]",
		"a.ts:2:1: error: x [z-rule]",
		"a.ts:2:5: error: x [a-rule]",
		"a.ts:10:1: error: x [a-rule]",
		"b.ts:1:1: error: x [b-rule]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sorted:\n%q\nwant\n%q", got, want)
	}
}

func TestRenderers(t *testing.T) {
	ds := []Diagnostic{
		Errorf("unknown-trigger", "kindeSrc/environment/workflows/a,b:Workflow.ts", 3, 12, "100%% wrong\nsecond line\r"),
		Warnf("undeclared-binding", "x.ts", 0, 0, "uses kinde.env"),
		Errorf("missing-kinde-json", "", 0, 0, "no kinde.json"),
	}
	cases := []struct {
		name  string
		write func(*bytes.Buffer) error
		want  string
	}{
		{"text", func(b *bytes.Buffer) error { return WriteText(b, ds) },
			"kindeSrc/environment/workflows/a,b:Workflow.ts:3:12: error: 100% wrong\nsecond line\r [unknown-trigger]\n" +
				"x.ts:1:1: warning: uses kinde.env [undeclared-binding]\n" +
				".:1:1: error: no kinde.json [missing-kinde-json]\n"},
		{"github", func(b *bytes.Buffer) error { return WriteGitHub(b, ds) },
			"::error file=kindeSrc/environment/workflows/a%2Cb%3AWorkflow.ts,line=3,col=12,title=flowgate unknown-trigger::100%25 wrong%0Asecond line%0D\n" +
				"::warning file=x.ts,line=1,col=1,title=flowgate undeclared-binding::uses kinde.env\n" +
				"::error line=1,col=1,title=flowgate missing-kinde-json::no kinde.json\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.write(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != c.want {
				t.Fatalf("got\n%s\nwant\n%s", b.String(), c.want)
			}
		})
	}
}

func TestJSONAlwaysArraysAndPositions(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, Report{}); err != nil {
		t.Fatal(err)
	}
	if got, want := compact(t, b.Bytes()), `{"workflows":[],"diagnostics":[]}`; got != want {
		t.Fatalf("empty report = %s, want %s", got, want)
	}
	b.Reset()
	r := Report{
		Workflows:   []Workflow{{ID: "a", Name: "A", Trigger: "user:pre_mfa", File: "w.ts"}},
		Diagnostics: []Diagnostic{{Severity: "", Rule: "r", Message: "m <b>", File: "w.ts"}},
	}
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `{"workflows":[{"id":"a","name":"A","trigger":"user:pre_mfa","file":"w.ts","bindings":[]}],` +
		`"diagnostics":[{"severity":"error","rule":"r","message":"m <b>","file":"w.ts","line":1,"column":1}]}`
	if got := compact(t, b.Bytes()); got != want {
		t.Fatalf("report = %s\nwant     %s", got, want)
	}
}

func compact(t *testing.T, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCountAndHasErrors(t *testing.T) {
	ds := []Diagnostic{Warnf("w", "f", 1, 1, "w")}
	if HasErrors(ds) {
		t.Fatal("warnings only: HasErrors = true")
	}
	ds = append(ds, Errorf("e", "f", 1, 1, "e"))
	if e, w := Count(ds); !HasErrors(ds) || e != 1 || w != 1 {
		t.Fatalf("Count = %d, %d; HasErrors = %v", e, w, HasErrors(ds))
	}
}
