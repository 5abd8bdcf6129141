package replay

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodLine = `{"id":"ev_1","workflowId":"w","trigger":"user:pre_mfa","at":"2026-12-01T00:00:00Z","event":{"context":{}},"fetch":[{"method":"GET","url":"https://x/","status":200,"body":"ok"}]}`

func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		input string
		lines bool
		n     int
		err   string
	}{
		{name: "one object", input: goodLine, n: 1},
		{name: "lines with blanks", input: goodLine + "\n\n  \n" + goodLine + "\n", lines: true, n: 2},
		{name: "trigger only", input: `{"id":"e","trigger":"user:pre_mfa","event":{}}`, n: 1},
		{name: "two objects in a .json", input: goodLine + goodLine, err: "more than one JSON value"},
		{name: "not JSON", input: "nope", err: "not a recorded call"},
		{name: "no route", input: `{"id":"e","event":{}}`, err: `neither a "workflowId" nor a "trigger"`},
		{name: "event not an object", input: `{"id":"e","trigger":"t","event":[1]}`, err: `"event" must be a JSON object`},
		{name: "event missing", input: `{"id":"e","trigger":"t"}`, err: `"event" must be a JSON object`},
		{name: "fetch without status", input: `{"id":"e","trigger":"t","event":{},"fetch":[{"method":"GET","url":"u"}]}`, err: `"fetch"[0] needs`},
		{name: "too many fetch", input: `{"id":"e","trigger":"t","event":{},"fetch":[` + strings.Repeat(`{"method":"GET","url":"u","status":200},`, MaxFetch) + `{"method":"GET","url":"u","status":200}]}`, err: "recorded outbound answers"},
		{name: "deep event", input: `{"id":"e","trigger":"t","event":` + strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100) + `}`, err: "nested more than"},
		{name: "deep in a string is fine", input: `{"id":"e","trigger":"t","event":{"s":"` + strings.Repeat("[", 1000) + `"}}`, n: 1},
		{name: "bad line located", input: goodLine + "\n{\n", lines: true, err: "f.jsonl:2:"},
		{name: "huge object", input: `{"id":"e","trigger":"t","event":{"s":"` + strings.Repeat("x", MaxRecordBytes) + `"}}`, err: "larger than"},
		{name: "huge line", input: `{"id":"e","trigger":"t","event":{"s":"` + strings.Repeat("x", MaxRecordBytes) + `"}}`, lines: true, err: "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := "f.json"
			if c.lines {
				name = "f.jsonl"
			}
			recs, err := Parse(strings.NewReader(c.input), name, c.lines, MaxEvents)
			if c.err != "" {
				var pe *ParseError
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, &pe) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || len(recs) != c.n {
				t.Fatalf("got %d, %v; want %d", len(recs), err, c.n)
			}
		})
	}
}

func TestParseLimit(t *testing.T) {
	in := strings.Repeat(goodLine+"\n", 3)
	if _, err := Parse(strings.NewReader(in), "f.jsonl", true, 2); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("err = %v", err)
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.json", strings.Replace(goodLine, "ev_1", "from_json", 1))
	write("b.jsonl", goodLine+"\n"+strings.Replace(goodLine, "ev_1", "ev_2", 1)+"\n")
	write("notes.txt", "ignored")
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "outside.json")
	if err := os.WriteFile(secret, []byte(goodLine), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "from_json,ev_1,ev_2" {
		t.Errorf("ids %v (links, folders and other files must be left out)", ids)
	}
	write("c.json", "{")
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), "c.json") {
		t.Errorf("a bad file is not located: %v", err)
	}
}

// FuzzParse: any input is recorded calls or a located error, never a
// panic, and what it accepts holds to the bounds.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodLine), false)
	f.Add([]byte(goodLine+"\n"+goodLine), true)
	f.Add([]byte(`{"trigger":"t","event":{"a":[[[[]]]]},"fetch":[{"method":"GET","url":"\u0000","status":100}]}`), false)
	f.Add([]byte("\n\n{}\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, lines bool) {
		recs, err := Parse(bytes.NewReader(data), "f", lines, 10)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("unlocated error %v", err)
			}
			return
		}
		if len(recs) > 10 {
			t.Fatalf("%d records past the limit", len(recs))
		}
		for _, r := range recs {
			if (r.WorkflowID == "" && r.Trigger == "") || len(r.Event) == 0 || r.Event[0] != '{' || len(r.Fetch) > MaxFetch || depth(r.Event) > MaxDepth {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
