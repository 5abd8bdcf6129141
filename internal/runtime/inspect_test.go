package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

func TestInspect(t *testing.T) {
	e := New(Options{Limits: Limits{WallTime: 300 * time.Millisecond, MemoryBytes: 16 << 20}})
	// Memory cases must meet their guard, not race it against the wall
	// time on a busy (or -race) machine: they get minutes.
	eMem := New(Options{Limits: Limits{WallTime: 2 * time.Minute, MemoryBytes: 16 << 20}})
	tests := []struct {
		name    string
		code    string
		want    string // the exported id, when the run succeeds
		wantErr string // a substring of the error, when it fails
	}{
		{"settings read", `module.exports = {workflowSettings: {id: "w" + 1}}`, "w1", ""},
		{"kinde is empty, console discards", `console.log(kinde.env); exports.workflowSettings = {id: typeof kinde.env}`, "undefined", ""},
		{"require refused", `require("fs")`, "", `require("fs") is not available`},
		{"top-level throw", `throw new TypeError("boom")`, "", "TypeError: boom"},
		{"endless loop", `for (;;) {}`, "", "execution time exceeded"},
		{"huge ArrayBuffer", `new ArrayBuffer(2 ** 40)`, "", "memory limit exceeded"},
		{"sparse fill", `new Array(1e9).fill(0)`, "", "memory limit exceeded"},
		{"string doubling", `let s = "x"; for (;;) s += s`, "", "exceeded"}, // memory or, on a slow machine, time
		{"deep recursion", `function f() { return f() + 1 } f()`, "", "at f (bundle.js:1"},
		{"syntax error", `let = = 1`, "", "bundle.js"},
		{"object spread of a long string", `({ ..."x".repeat(2 ** 24) })`, "", "memory limit exceeded"},
		{"ordinary spread", `const o = { ...{ id: "w" }, ..."ab" }; exports.workflowSettings = { id: o.id + o[0] }`, "wa", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var id string
			e := e
			if strings.Contains(tt.wantErr, "memory") {
				e = eMem
			}
			err := e.Inspect(context.Background(), []byte(tt.code), func(vm *goja.Runtime, exports goja.Value) error {
				ws := exports.ToObject(vm).Get("workflowSettings")
				if ws == nil || goja.IsUndefined(ws) {
					return errors.New("no workflowSettings")
				}
				id = ws.ToObject(vm).Get("id").String()
				return nil
			})
			if tt.wantErr == "" {
				if err != nil || id != tt.want {
					t.Fatalf("Inspect = %q, %v; want %q", id, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Inspect error = %v; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestInspectRecoversFromPanickingReader(t *testing.T) {
	e := New(Options{})
	err := e.Inspect(context.Background(), []byte(`exports.x = 1`), func(*goja.Runtime, goja.Value) error { panic("reader bug") })
	if err == nil || !strings.Contains(err.Error(), "reader bug") {
		t.Fatalf("Inspect error = %v; want the recovered panic", err)
	}
}
