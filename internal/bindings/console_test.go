package bindings

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

func TestConsoleFormatting(t *testing.T) {
	tests := []struct{ js, want string }{
		{`console.log("a", 1, true, null, undefined)`, "info: a 1 true null undefined"},
		{`console.info({a: 1, "b-c": "x", n: {m: [1, "two"]}})`, "info: { a: 1, 'b-c': 'x', n: { m: [ 1, 'two' ] } }"},
		{`console.debug([])`, "debug: []"},
		{`console.warn("%s is %d years and %i, %f; %j %%", "Bob", 42.5, 42.9, "1.5", {a: 1})`, `warn: Bob is 42.5 years and 42, 1.5; {"a":1} %`},
		{`console.error(new Error("boom").message)`, "error: boom"},
		{`console.log("%s", {a: {b: {c: {d: 1}}}})`, "info: { a: [Object] }"},
		{`console.log({a: {b: {c: {d: 1}}}})`, "info: { a: { b: { c: [Object] } } }"},
		{`const o = {}; o.self = o; console.log(o)`, "info: { self: [Circular] }"},
		{`console.log(function named() {}, () => 1)`, "info: [Function: named] [Function (anonymous)]"},
		{`console.log(-0, 1e21, NaN)`, "info: -0 1e+21 NaN"},
		{`console.log(new URLSearchParams({a: "b"}), new URL("https://x.io/p"))`, "info: URLSearchParams { 'a=b' } URL { 'https://x.io/p' }"},
		{`console.log("100%", "done")`, "info: 100% done"},
		{`console.log("it's")`, "info: it's"},
		{`console.log(["it's"])`, `info: [ "it's" ]`},
		{`console.log(new Date(0))`, `info: "1970-01-01T00:00:00.000Z"`},
	}
	for _, tc := range tests {
		t.Run(tc.js, func(t *testing.T) {
			s := newSandbox(t, &Config{})
			s.mustRun(t, tc.js)
			if got := strings.TrimSuffix(logText(s.res), "\n"); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestConsoleCaps(t *testing.T) {
	s := newSandbox(t, &Config{})
	s.mustRun(t, `for (let i = 0; i < 1200; i++) console.log("line " + i)`)
	if n := len(s.res.Logs); n != MaxLogLines+1 {
		t.Fatalf("%d log lines, want %d", n, MaxLogLines+1)
	}
	last := s.res.Logs[len(s.res.Logs)-1]
	if last.Level != "warn" || !strings.HasPrefix(last.Message, "logs truncated") {
		t.Errorf("last line = %+v", last)
	}

	s = newSandbox(t, &Config{})
	s.mustRun(t, `for (let i = 0; i < 100; i++) console.log("x".repeat(1000))`)
	total := 0
	for _, l := range s.res.Logs[:len(s.res.Logs)-1] {
		total += len(l.Message)
	}
	if total > MaxLogBytes || !strings.HasPrefix(s.res.Logs[len(s.res.Logs)-1].Message, "logs truncated") {
		t.Errorf("%d bytes logged in %d lines", total, len(s.res.Logs))
	}
}

func TestRedaction(t *testing.T) {
	cfg := &Config{
		Settings: declare(workflow.ExistingPasswordProvided, workflow.BindEnv),
		Env: map[string]EnvVar{
			"API_KEY": {Value: "sk_live_abc+/=", IsSecret: true},
			"PUBLIC":  {Value: "visible-value"},
			"TINY":    {Value: "x", IsSecret: true},
			"QUOTE":   {Value: `pa"ss\word`, IsSecret: true},
			"INNER":   {Value: "abc", IsSecret: true},
			"SPACED":  {Value: "tok en{1}", IsSecret: true},
			"QUOTED":  {Value: `quo"te`, IsSecret: true},
		},
		Redact: []string{"hunter2!", ""},
	}
	tests := []struct{ js, want string }{
		{`console.log(kinde.env.get("API_KEY").value)`, "info: ***"},
		{`console.log("key=" + kinde.env.get("API_KEY").value + ";")`, "info: key=***;"},
		{`console.log(kinde.env.get("PUBLIC").value)`, "info: visible-value"},
		{`console.log({password: "hunter2!"})`, "info: { password: '***' }"},
		{`console.log(JSON.stringify({k: kinde.env.get("QUOTE").value}))`, `info: {"k":"***"}`},
		{`console.log({k: kinde.env.get("QUOTE").value})`, `info: { k: '***' }`},
		{`console.log(new URLSearchParams({s: kinde.env.get("API_KEY").value}).toString())`, "info: s=***"},
		{`console.log("x marks")`, "info: x marks"}, // one-character secrets are not redacted
		{`console.log("sk_live_abc+/=abc")`, "info: ******"},
		// A secret inside a URL (WHATWG
		// percent-encoding) and a JSON string logged inside an object.
		{`console.log(new URL("https://api.example.com/x?k=" + kinde.env.get("SPACED").value).href)`, "info: https://api.example.com/x?k=***"},
		{`console.log(new URL("https://api.example.com/x#" + kinde.env.get("SPACED").value).href)`, "info: https://api.example.com/x#***"},
		{`console.log({body: JSON.stringify({q: kinde.env.get("QUOTED").value})})`, `info: { body: '{"q":"***"}' }`},
	}
	for _, tc := range tests {
		t.Run(tc.js, func(t *testing.T) {
			s := newSandbox(t, cfg)
			s.mustRun(t, tc.js)
			if got := strings.TrimSuffix(logText(s.res), "\n"); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	s := newSandbox(t, cfg)
	if got := s.inv.Redact("error: bad password hunter2! for sk_live_abc+/="); got != "error: bad password *** for ***" {
		t.Errorf("Redact = %q", got)
	}
	// Thrown errors from bindings are redacted too.
	_, err := s.run(`kinde.env.get(Symbol("hunter2!"))`)
	if strings.Contains(err, "hunter2!") {
		t.Errorf("secret in error: %q", err)
	}
}

func TestConsoleKeepsNoStateBetweenInvocations(t *testing.T) {
	s := newSandbox(t, &Config{})
	for i := 0; i < MaxLogLines; i++ {
		s.inv.log("info", fmt.Sprint(i))
	}
	s2 := New(t.Context(), s.vm, &Config{}, &workflow.Result{})
	s2.log("info", "fresh")
	if len(s2.res.Logs) != 1 || s2.res.Logs[0].Message != "fresh" {
		t.Errorf("second invocation logs = %+v", s2.res.Logs)
	}
}

// TestConsoleMatchesNode runs testdata/console.js (Map, Set, BigInt, boxed
// primitives, depth limits…) and compares the logged lines with what Node
// printed for the same script (testdata/console.node.txt).
func TestConsoleMatchesNode(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "console.js"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "console.node.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := newSandbox(t, &Config{})
	s.mustRun(t, string(script))
	var got []string
	for _, l := range s.res.Logs {
		got = append(got, l.Message)
	}
	wantLines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	for i := range max(len(got), len(wantLines)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("line %d:\n got %q\nwant %q (Node)", i+1, g, w)
		}
	}
	s.mustRun(t, `console.log(new Map(Array.from({length: 101}, (_, i) => [i, i])))`)
	if last := s.res.Logs[len(s.res.Logs)-1].Message; !strings.HasSuffix(last, "99 => 99, ... 1 more item }") || !strings.HasPrefix(last, "Map(101) { 0 => 0, ") {
		t.Errorf("101 entries: %q", last)
	}
}

// TestConsoleErrorStackMapped: a caught error logged with console.error
// shows its stack through Config.MapStack (the runtime's source map).
func TestConsoleErrorStackMapped(t *testing.T) {
	var seen string
	s := newSandbox(t, &Config{MapStack: func(stack string) string {
		seen = stack
		return strings.ReplaceAll(stack, "bundle.js", "src/userWorkflow.ts")
	}})
	s.vm.RunScript("bundle.js", `function f() { throw new Error("boom") }`)
	s.mustRun(t, `try { f() } catch (err) { console.error("error", err); console.log({e: err}) }`)
	logs := logText(s.res)
	if seen == "" || !strings.Contains(logs, "error: error Error: boom\n\tat f (src/userWorkflow.ts:1:") || strings.Contains(logs, "bundle.js") {
		t.Errorf("logs:\n%s", logs)
	}
}
