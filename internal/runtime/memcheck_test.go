package runtime

import (
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/workflow"
)

// The synchronous memory check (guards.grew) decides with the heap
// sampler off and a wall time no load reaches: a run keeping the strings
// it makes ends as memory, one making as much garbage succeeds.
func TestMemoryCheckWithoutSampler(t *testing.T) {
	e := New(Options{Limits: Limits{SampleInterval: time.Hour, WallTime: 60 * time.Second, MemoryBytes: 32 << 20}})
	defer e.Close()
	tests := []struct {
		name, body string
		kind       workflow.ErrorKind
	}{
		{"kept repeat", `const k = []; for (;;) k.push("x".repeat(1 << 20))`, workflow.KindMemory},
		{"kept join", `const k = [], a = Array(4096).fill("abcdefgh"); for (;;) k.push(a.join("-"))`, workflow.KindMemory},
		{"kept padEnd", `const k = []; for (let i = 0; ; i++) k.push("".padEnd(1 << 16, String(i)))`, workflow.KindMemory},
		{"garbage", `let n = 0; for (let i = 0; i < 100; i++) n += "x".repeat(1 << 20).length; kinde.accessToken.setCustomClaim("n", n)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, e, load(t, e, handler(tt.body)), `{}`)
			if tt.kind == "" {
				wantSucceeded(t, r)
				return
			}
			if r.Error == nil || r.Error.Kind != tt.kind {
				t.Fatalf("error %+v; want kind %q", r.Error, tt.kind)
			}
		})
	}
}
