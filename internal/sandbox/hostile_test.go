package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/runtime"
	"github.com/flowgate/flowgate/internal/workflow"
)

// hostileCase is one entry of a corpus manifest (testdata/hostile/corpus.json
// here and in the repository root's testdata/hostile).
type hostileCase struct {
	File     string             `json:"file"`
	Kind     workflow.ErrorKind `json:"kind"` // what the in-process guards report
	TopLevel bool               `json:"topLevel"`
	Issue    string             `json:"issue"`
	Attack   string             `json:"attack"`
}

// contained are the kinds the supervisor itself gives a case the
// in-process guards missed: the worker died, overran or outgrew.
var contained = []workflow.ErrorKind{workflow.KindSandboxCrashed, workflow.KindTimeout, workflow.KindMemory}

// Limits of the corpus run, and the bounds every case must stay within.
const (
	corpusWall    = time.Second
	corpusGrace   = 500 * time.Millisecond
	corpusCeiling = 384 << 20
	// rssSlack is how far past the ceiling sampling may see a worker
	// before it is killed (it reads RSS every memInterval).
	rssSlack = 128 << 20
	// hangBound is how long a case may take before the test calls it a
	// hang: the supervisor ends every run at wall time + grace, but a
	// machine under load stretches starting and reaping workers without
	// limit, so the bound catches a run nothing stopped, not a slow one.
	hangBound = 2 * time.Minute
)

func loadCorpus(t *testing.T, dir string) []hostileCase {
	data, err := os.ReadFile(filepath.Join(dir, "corpus.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Cases []hostileCase }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s/corpus.json: %v", dir, err)
	}
	return m.Cases
}

// TestHostileCorpus runs every hostile case through the real supervisor:
// the test process survives, each Result is failed with the case's kind
// (or, where the in-process guards miss it, the kind the supervisor gives
// when it stops the worker), within wall time + grace and under the
// memory ceiling. FLOWGATE_HOSTILE_STRICT=1 requires the exact kinds.
func TestHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus takes tens of seconds")
	}
	strict := os.Getenv("FLOWGATE_HOSTILE_STRICT") == "1"
	s, _ := newSupervisor(t, func(o *Options) {
		o.Workers = 2
		o.Grace = corpusGrace
		o.MemoryCeiling = corpusCeiling
		o.QuarantineAfter = 1000 // each case is its own bundle anyway
		o.Limits = runtime.Limits{WallTime: corpusWall}
	})
	var mu sync.Mutex
	var peak uint64
	var slowest time.Duration
	s.onCall = func(rss uint64, d time.Duration) {
		mu.Lock()
		peak, slowest = max(peak, rss), max(slowest, d)
		mu.Unlock()
	}
	corpora := []struct{ name, dir string }{
		{"own", "testdata/hostile"},              // this package's few cases
		{"repository", "../../testdata/hostile"}, // the repository's corpus (issue 6)
	}
	total := 0
	for _, c := range corpora {
		dir := c.dir
		cases := loadCorpus(t, dir)
		total += len(cases)
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(strings.TrimSuffix(tc.File, ".js"), func(t *testing.T) {
					t.Parallel()
					runHostile(t, s, dir, tc, strict)
				})
			}
		})
	}
	if total == 0 {
		t.Fatal("no hostile corpus found")
	}
	if peak > corpusCeiling+rssSlack {
		t.Errorf("a worker reached %d MiB, past the %d MiB ceiling (+%d MiB sampling slack)", peak>>20, corpusCeiling>>20, rssSlack>>20)
	}
	t.Logf("%d cases; highest sampled worker RSS %d MiB (ceiling %d MiB); slowest request %v (wall time + grace %v)",
		total, peak>>20, corpusCeiling>>20, slowest.Round(time.Millisecond), corpusWall+corpusGrace)
}

func runHostile(t *testing.T, s *Supervisor, dir string, tc hostileCase, strict bool) {
	code, err := os.ReadFile(filepath.Join(dir, tc.File))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, kind workflow.ErrorKind, elapsed time.Duration) {
		t.Helper()
		if elapsed > hangBound {
			t.Errorf("%s took %v: nothing stopped it (wall time + grace is %v)", what, elapsed, corpusWall+corpusGrace)
		}
		switch {
		case kind == tc.Kind:
		case !strict && slices.Contains(contained, kind):
			t.Logf("%s: contained by the supervisor as %q (the in-process guards give %q)", what, kind, tc.Kind)
		default:
			t.Errorf("%s: kind %q, want %q (issue %s: %s)", what, kind, tc.Kind, tc.Issue, tc.Attack)
		}
	}
	if tc.TopLevel {
		start := time.Now()
		in := project.InspectInput{File: "kindeSrc/environment/workflows/hostileWorkflow.js", Code: code, Timeout: corpusWall}
		got := s.ReadSettings(context.Background(), in)
		elapsed := time.Since(start)
		var d *diag.Diagnostic
		for i := range got.Diagnostics {
			if got.Diagnostics[i].Rule == project.RuleTopLevelError {
				d = &got.Diagnostics[i]
			}
		}
		if d == nil || d.File == "" || d.Line < 1 {
			t.Errorf("settings: diagnostics %+v, want a located %s", got.Diagnostics, project.RuleTopLevelError)
		}
		if elapsed > hangBound {
			t.Errorf("settings took %v", elapsed)
		}
	}
	start := time.Now()
	res := s.Run(context.Background(), &Request{
		Settings: workflow.Settings{ID: "hostile", Trigger: workflow.UserTokenGeneration},
		Code:     code,
		Event:    []byte(`{"request":{},"context":{"user":{"id":"kp_1"}}}`),
	}).Result
	elapsed := time.Since(start)
	if res == nil || res.Status != workflow.StatusFailed || res.Error == nil {
		b, _ := json.Marshal(res)
		t.Fatalf("run: %s, want a failed Result", b)
	}
	if strings.Contains(res.Error.Message, "goroutine ") || strings.Contains(res.Error.Message, "runtime.") {
		t.Errorf("run: the message shows Go internals: %q", res.Error.Message)
	}
	check("run", res.Error.Kind, elapsed)
}

// FuzzHostile composes built-ins, receivers and callbacks (native ones
// too, which no interrupt reaches) into programs and checks that the
// supervisor always answers with a Result, within the deadline.
func FuzzHostile(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 0, 0, 0}, {1, 2, 3, 4}, {5, 6, 7, 1}, {2, 9, 4, 0, 3, 3, 8, 2},
		{7, 1, 1, 6}, {3, 4, 5, 9, 9, 9}, {8, 3, 2, 1, 4, 4},
	} {
		f.Add(seed)
	}
	// A short wall time: most composed programs run until stopped, and
	// the fuzzer's minimisation re-runs them many times.
	const wall, grace = 300 * time.Millisecond, 200 * time.Millisecond
	s, _ := newSupervisor(f, func(o *Options) {
		o.Workers = 2
		o.Grace = grace
		o.MemoryCeiling = corpusCeiling
		o.QuarantineAfter = 1 << 30
		o.Limits = runtime.Limits{WallTime: wall}
	})
	f.Fuzz(func(t *testing.T, choices []byte) {
		src := composeHostile(choices)
		start := time.Now()
		res := s.Run(context.Background(), &Request{
			Settings: workflow.Settings{ID: "fuzz", Trigger: workflow.UserTokenGeneration},
			Code:     []byte(src),
			Event:    []byte(`{"request":{},"context":{}}`),
		}).Result
		if res == nil || (res.Status != workflow.StatusSucceeded && res.Status != workflow.StatusFailed) {
			t.Fatalf("no answer for\n%s\n%+v", src, res)
		}
		if res.Status == workflow.StatusFailed && res.Error == nil {
			t.Fatalf("failed without an error for\n%s", src)
		}
		if d := time.Since(start); d > hangBound {
			t.Fatalf("answered after %v for\n%s", d, src)
		}
	})
}

// Pieces of hostile programs: values (cyclic, deep, huge, proxied),
// operations that recurse or loop natively, and callbacks, native ones
// included.
var (
	fuzzValues = []string{
		`(() => { const a = [0]; a[0] = a; return a; })()`,
		`(() => { const t = {}, p = new Proxy(t, {}); Object.setPrototypeOf(t, p); return t; })()`,
		`(() => { let o = {}; for (let i = 0; i < 1e5; i++) o = {o}; return o; })()`,
		`Array(1 << 16).fill("ab")`,
		`"x".repeat(1 << 20)`,
		`(() => { const e = {}; e.name = e; e.toString = Error.prototype.toString; return e; })()`,
		`new Proxy([1, 2, 3], { get: (t, k) => k === "length" ? 1e9 : t[k] })`,
		`(() => { let a = []; for (let i = 0; i < 1e4; i++) a = [a]; return a; })()`,
		`{ toJSON: Date.prototype.toJSON, toISOString: Date.prototype.toJSON }`,
		`[1, 2, 3]`,
	}
	fuzzOps = []string{
		`JSON.stringify(%s, null, 10)`,
		`String(%s)`,
		`[%s].flat(Infinity)`,
		`[].concat(%s, %s, %s)`,
		`Array.prototype.join.call(%s)`,
		`(%s) instanceof Date`,
		`Object.keys(%s).map(Function.prototype.call, String.prototype.repeat)`,
		`Array.from({ length: 1e6 }, () => %s)`,
		`[%s].sort(Function.prototype.call)`,
		`JSON.parse(JSON.stringify(%s))`,
		`structuredClone === undefined ? [%s] : 0`,
		`Array.prototype.filter.call(%s, RegExp.prototype.test, /^(a+)+$/)`,
	}
)

func composeHostile(choices []byte) string {
	next := func(n int) int {
		if len(choices) == 0 {
			return 0
		}
		c := int(choices[0])
		choices = choices[1:]
		return c % n
	}
	expr := fuzzValues[next(len(fuzzValues))]
	for depth := 0; depth < 3 && len(choices) > 0; depth++ {
		op := fuzzOps[next(len(fuzzOps))]
		args := make([]any, strings.Count(op, "%s"))
		for i := range args {
			args[i] = expr
		}
		expr = fmt.Sprintf(op, args...)
	}
	return "module.exports.default = async function (event) {\n  const r = " + expr + ";\n  console.log(typeof r);\n};\n"
}
