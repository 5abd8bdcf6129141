package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/flowgate/flowgate/internal/workflow"
)

// The hostile corpus (testdata/hostile, see its README) is run here
// in-process, each case in a child process (this test binary re-executed):
// a fatal Go stack overflow or out-of-memory cannot be recovered, so a case
// that still crashes fails its subtest instead of the whole run.

const hostileDir = "../../testdata/hostile"

// hostileCase is one entry of corpus.json.
type hostileCase struct {
	File     string             `json:"file"`
	Kind     workflow.ErrorKind `json:"kind"`
	TopLevel bool               `json:"topLevel"`
	Issue    string             `json:"issue"`
	Attack   string             `json:"attack"`
	// Layer "process" marks an attack known to pass the in-process guards
	// (LIMITS.md, "Left"): only the worker-process supervisor contains it.
	Layer string `json:"layer"`
	// Deterministic marks a memory case the guards stop after a known
	// amount of allocation (guards.grew): it runs with the heap sampler
	// off and a wall time no load reaches, so only that check can end it.
	Deterministic bool `json:"deterministic"`
}

func readCorpus(t *testing.T) []hostileCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hostileDir, "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Cases []hostileCase }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("corpus.json: %v", err)
	}
	return c.Cases
}

// childReport is what a child prints: the Run result's kind and message,
// and Inspect's kind for top-level cases.
type childReport struct {
	Status      string             `json:"status"`
	Kind        workflow.ErrorKind `json:"kind"`
	Message     string             `json:"message"`
	InspectKind workflow.ErrorKind `json:"inspectKind"`
	InspectErr  string             `json:"inspectErr"`
}

const childMarker = "HOSTILE-REPORT "

// hostileLimits are the child's: a worker-like small Go stack, so an
// overflow dies fast instead of growing to 1 GB.
func hostileLimits() Limits {
	return Limits{WallTime: 5 * time.Second, MemoryBytes: 64 << 20}
}

// safeWall is the wall time of the cases that something other than the
// wall time ends: far above what they need however starved the CPU, so
// only their guard or throw can end the run. A case that regresses then
// fails as timeout after this long, or at the 1 GiB heap watchdog. The
// timeout cases run 1 s.
const safeWall = 2 * time.Minute

// guardEnds reports whether a case of kind k is ended without the wall
// time: by a guard, or by a throw (describing a thrown value that loops
// when read has a bound of its own, describeTime).
func guardEnds(k workflow.ErrorKind) bool {
	return k == workflow.KindMemory || k == workflow.KindCallDepth || k == workflow.KindThrown
}

const childMaxStack = 64 << 20

func TestHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the hostile corpus re-executes the test binary per case")
	}
	for _, c := range readCorpus(t) {
		t.Run(strings.TrimSuffix(c.File, ".js"), func(t *testing.T) {
			if c.Layer == "process" {
				t.Skipf("%s: known to pass the in-process guards (%s); the supervisor contains it", c.File, c.Attack)
			}
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), safeWall+time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostileChild$", "-test.v")
			cmd.Env = append(os.Environ(), "FLOWGATE_HOSTILE_CASE="+c.File, "FLOWGATE_HOSTILE_KIND="+string(c.Kind))
			if c.Deterministic {
				cmd.Env = append(cmd.Env, "FLOWGATE_HOSTILE_DETERMINISTIC=1")
			}
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			var rep *childReport
			for _, l := range strings.Split(out.String(), "\n") {
				if s, ok := strings.CutPrefix(l, childMarker); ok {
					rep = &childReport{}
					if jerr := json.Unmarshal([]byte(s), rep); jerr != nil {
						t.Fatalf("child report: %v", jerr)
					}
				}
			}
			if err != nil || rep == nil {
				tail := errb.String() + out.String()
				if len(tail) > 1500 {
					tail = tail[:1500]
				}
				t.Fatalf("%s (%s): child died after %s: %v\n%s", c.File, c.Attack, took.Round(time.Millisecond), err, tail)
			}
			if rep.Status != workflow.StatusFailed || rep.Kind != c.Kind {
				t.Errorf("%s: status %q kind %q (%s); want failed, kind %q", c.File, rep.Status, rep.Kind, rep.Message, c.Kind)
			}
			if c.TopLevel && rep.InspectKind != c.Kind {
				t.Errorf("%s: Inspect kind %q (%s); want %q", c.File, rep.InspectKind, rep.InspectErr, c.Kind)
			}
			// The guards stop a case cheaply: bounded in CPU time, which a
			// busy machine does not stretch the way it stretches wall time.
			if cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(); cpu > 20*time.Second {
				t.Errorf("%s: used %s of CPU (%s wall)", c.File, cpu, took)
			}
		})
	}
}

// TestHostileChild runs one corpus case when re-executed by
// TestHostileCorpus.
func TestHostileChild(t *testing.T) {
	file := os.Getenv("FLOWGATE_HOSTILE_CASE")
	if file == "" {
		t.Skip("run by TestHostileCorpus")
	}
	debug.SetMaxStack(childMaxStack)
	code, err := os.ReadFile(filepath.Join(hostileDir, file))
	if err != nil {
		t.Fatal(err)
	}
	l := hostileLimits()
	if guardEnds(workflow.ErrorKind(os.Getenv("FLOWGATE_HOSTILE_KIND"))) {
		// These assert the guard or throw that ends them, so CPU
		// starvation cannot turn them into timeouts. A regression that grows without bound
		// (with the sampler off, or a leak the sampler misses) dies at
		// 1 GiB instead (the case then fails).
		l.WallTime = safeWall
		go func() {
			s := []metrics.Sample{{Name: heapMetric}}
			for range time.Tick(20 * time.Millisecond) {
				if readHeap(s) > 1<<30 {
					os.Stdout.WriteString("heap past 1 GiB\n")
					os.Exit(3)
				}
			}
		}()
	}
	if workflow.ErrorKind(os.Getenv("FLOWGATE_HOSTILE_KIND")) == workflow.KindTimeout {
		// Only the wall time ends these: a second proves it as well as
		// five, for a fifth of the CPU the suite spends spinning.
		l.WallTime = time.Second
	}
	if os.Getenv("FLOWGATE_HOSTILE_DETERMINISTIC") == "1" {
		// Only the synchronous allocation check may end it.
		l.SampleInterval = time.Hour
	}
	e := New(Options{Limits: l})
	defer e.Close()
	var rep childReport
	p, err := e.Load(code, nil)
	if err != nil {
		rep.Status, rep.Kind, rep.Message = workflow.StatusFailed, KindOf(err), err.Error()
	} else {
		r := e.Run(context.Background(), Invocation{Program: p, Settings: settings(), Event: []byte(`{}`)})
		rep.Status = r.Status
		if r.Error != nil {
			rep.Kind, rep.Message = r.Error.Kind, r.Error.Message
		}
	}
	ierr := e.Inspect(context.Background(), code, func(*goja.Runtime, goja.Value) error { return nil })
	if ierr != nil {
		rep.InspectKind, rep.InspectErr = KindOf(ierr), ierr.Error()
	}
	b, _ := json.Marshal(rep)
	os.Stdout.WriteString("\n" + childMarker + string(b) + "\n")
}
