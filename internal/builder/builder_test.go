package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/builder/hostilebuild"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/project"
)

// Workflow file names that make a test builder misbehave when their
// settings are read (see hook).
const (
	hookCrash  = "hookCrashWorkflow.ts"  // dies like a Go fatal error
	hookHang   = "hookHangWorkflow.ts"   // blocks forever
	hookSpin   = "hookSpinWorkflow.ts"   // burns CPU forever
	hookGrow   = "hookGrowWorkflow.ts"   // holds 512 MiB, then blocks
	hookHuge   = "hookHugeWorkflow.ts"   // one allocation past RLIMIT_AS
	hookReport = "hookReportWorkflow.ts" // reports its environment and network, then dies
)

// TestMain lets the test binary serve as a builder: Builder re-runs the
// running executable, which is this binary under go test.
func TestMain(m *testing.M) {
	MaybeBuilderWith(hook)
	os.Exit(m.Run())
}

var sink [][]byte

func hook(step, file string) {
	if step != project.StepSettings {
		return
	}
	switch filepath.Base(file) {
	case hookCrash:
		fmt.Fprint(os.Stderr, "fatal error: stack overflow\n\ngoroutine 1 [running]:\n")
		os.Exit(2)
	case hookHang:
		select {}
	case hookSpin:
		for {
			sink = nil
		}
	case hookGrow:
		for range 512 {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			sink = append(sink, b)
		}
		select {}
	case hookHuge:
		sink = append(sink, make([]byte, 64<<30))
	case hookReport:
		_, err := net.DialTimeout("tcp", os.Getenv("NOT_SET")+"127.0.0.1:1", time.Second)
		fmt.Fprintf(os.Stderr, "ENV=%s NET=%v\n", strings.Join(os.Environ(), ","), err)
		os.Exit(2)
	}
}

const okWorkflow = "export const workflowSettings = {id: %q, trigger: %q};\nexport default async () => {};\n"

// repoWith writes a repository with the given workflow files (name →
// id and trigger made up from the name).
func repoWith(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "kinde.json"), `{"rootDir": "kindeSrc", "version": "2024-12-09"}`)
	triggers := []string{"user:tokens_generation", "m2m:token_generation", "user:pre_mfa", "user:post_authentication", "user:new_password_provided"}
	for i, n := range names {
		write(t, filepath.Join(dir, "kindeSrc", "environment", "workflows", n), fmt.Sprintf(okWorkflow, strings.TrimSuffix(n, ".ts"), triggers[i]))
	}
	return dir
}

func write(t testing.TB, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newBuilder(t *testing.T, opts Options) *Builder {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// brief renders diagnostics as "severity rule file:line:col".
func brief(ds []diag.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s %s %s:%d:%d", d.Severity, d.Rule, d.File, d.Line, d.Column))
	}
	return out
}

// TestCheckMatchesInProcess: a builder's report is the in-process one,
// bundles, source maps, settings and located diagnostics alike.
func TestCheckMatchesInProcess(t *testing.T) {
	t.Parallel()
	for _, repo := range []string{"valid-10", "undeclared-binding", "duplicate-id", "build-error-syntax"} {
		dir := filepath.Join("..", "project", "testdata", "repos", repo)
		want, err := project.Check(context.Background(), dir, project.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := newBuilder(t, Options{}).Check(context.Background(), dir, project.Options{})
		if err != nil {
			t.Fatalf("%s: %v", repo, err)
		}
		if !slices.Equal(brief(got.Diagnostics), brief(want.Diagnostics)) || len(got.Workflows) != len(want.Workflows) {
			t.Fatalf("%s: builder %v, in process %v", repo, got.Diagnostics, want.Diagnostics)
		}
		for i, w := range want.Workflows {
			g := got.Workflows[i]
			if g.File != w.File || g.Settings.ID != w.Settings.ID || (w.Bundle == nil) != (g.Bundle == nil) {
				t.Fatalf("%s: workflow %d: %+v, want %+v", repo, i, g, w)
			}
			if w.Bundle != nil && (g.Bundle.SHA256 != w.Bundle.SHA256 || !bytes.Equal(g.Bundle.SourceMap, w.Bundle.SourceMap) || !slices.Equal(g.Bundle.Inputs, w.Bundle.Inputs)) {
				t.Fatalf("%s: bundle of %s differs:\n%s\n%s\n%v\n---\n%s\n%s\n%v", repo, w.File, g.Bundle.Code, g.Bundle.SourceMap, g.Bundle.Inputs, w.Bundle.Code, w.Bundle.SourceMap, w.Bundle.Inputs)
			}
		}
		if got.Config == nil || want.Config == nil || got.Config.RootDir != want.Config.RootDir {
			t.Fatalf("%s: config %+v, want %+v", repo, got.Config, want.Config)
		}
		if l1, c1 := got.Config.KeyPos("rootDir"); true {
			if l2, c2 := want.Config.KeyPos("rootDir"); l1 != l2 || c1 != c2 {
				t.Fatalf("%s: KeyPos %d:%d, want %d:%d", repo, l1, c1, l2, c2)
			}
		}
	}
}

// TestCrashedSettingsIsThatWorkflows: a builder that dies while one
// workflow's settings are read fails that workflow with a located
// build-crashed error; the others are still checked, and the message is
// fixed text, never the builder's stderr.
func TestCrashedSettingsIsThatWorkflows(t *testing.T) {
	t.Parallel()
	dir := repoWith(t, "okWorkflow.ts", hookCrash)
	rep, err := newBuilder(t, Options{}).Check(context.Background(), dir, project.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"error build-crashed kindeSrc/environment/workflows/" + hookCrash + ":1:1"}
	if got := brief(rep.Diagnostics); !slices.Equal(got, want) {
		t.Fatalf("diagnostics %v, want %v", rep.Diagnostics, want)
	}
	if ok := rep.Workflows[1]; ok.Settings.ID != "okWorkflow" || !ok.Valid() {
		t.Fatalf("the healthy workflow was not checked: %+v", ok)
	}
	msg := rep.Diagnostics[0].Message
	if !strings.Contains(msg, "recursed past the builder's stack limit") || strings.Contains(msg, "goroutine") {
		t.Fatalf("message %q", msg)
	}
}

// TestLimits: each way a builder can run away ends that check with its
// own explanation; the caller keeps working.
func TestLimits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		opts Options
		want string
	}{
		{hookHang, Options{Timeout: time.Second}, "it ran longer than 1s"},
		{hookSpin, Options{CPUTime: time.Second}, "more than 1s of CPU time"},
		{hookGrow, Options{MemoryCeiling: 256 << 20}, "memory ceiling of 256 MiB"},
		{hookHuge, Options{}, "ran out of memory"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			b := newBuilder(t, c.opts)
			rep, err := b.Check(context.Background(), repoWith(t, c.file), project.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Diagnostics) != 1 || rep.Diagnostics[0].Rule != project.RuleBuildCrashed ||
				!strings.Contains(rep.Diagnostics[0].Message, c.want) || !strings.HasSuffix(rep.Diagnostics[0].File, c.file) {
				t.Fatalf("diagnostics %v, want build-crashed on %s saying %q", rep.Diagnostics, c.file, c.want)
			}
		})
	}
}

// TestQuarantine: content that keeps killing builders is refused at once
// and says so; other content still builds; Release lifts it.
func TestQuarantine(t *testing.T) {
	t.Parallel()
	b := newBuilder(t, Options{QuarantineAfter: 2})
	bad := repoWith(t, hookCrash)
	for range 2 {
		if _, err := b.Check(context.Background(), bad, project.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	started := b.Stats().Started
	rep, err := b.Check(context.Background(), bad, project.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diagnostics) != 1 || !strings.Contains(rep.Diagnostics[0].Message, "quarantined") {
		t.Fatalf("diagnostics %v", rep.Diagnostics)
	}
	if b.Stats().Started != started {
		t.Fatal("a quarantined repository started a builder")
	}
	if _, ok := b.Quarantined(bad); !ok {
		t.Fatal("not reported as quarantined")
	}
	good, err := b.Check(context.Background(), repoWith(t, "okWorkflow.ts"), project.Options{})
	if err != nil || !good.OK() {
		t.Fatalf("other content: %v %v", err, good.Diagnostics)
	}
	b.Release(bad)
	if _, ok := b.Quarantined(bad); ok {
		t.Fatal("still quarantined after Release")
	}
}

// TestAnswerReadAfterExit: what a builder wrote before it exited is its
// answer even when the parent reads it only after the exit (a loaded
// machine schedules the reader late; the answer was once lost then, and a
// missing folder was reported as a crash).
func TestAnswerReadAfterExit(t *testing.T) {
	beforeRead = func(p *proc) { <-p.exited }
	t.Cleanup(func() { beforeRead = func(*proc) {} })
	b := newBuilder(t, Options{})

	_, err := b.Check(context.Background(), filepath.Join(t.TempDir(), "no-such-repo"), project.Options{})
	if err == nil || !strings.Contains(err.Error(), "read repository") {
		t.Fatalf("missing folder: err %v, want the read error", err)
	}
	dir := filepath.Join("..", "project", "testdata", "repos", "duplicate-id")
	want, err := project.Check(context.Background(), dir, project.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Check(context.Background(), dir, project.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(brief(got.Diagnostics), brief(want.Diagnostics)) || len(got.Workflows) != len(want.Workflows) {
		t.Fatalf("builder %v, in process %v", got.Diagnostics, want.Diagnostics)
	}
	if lost := b.Stats().Lost; len(lost) != 0 {
		t.Fatalf("answers read after the exit counted as lost builders: %v", lost)
	}
}

// TestCancel: the caller's context ends the builder; that is an error,
// not a diagnostic, and does not count against the content.
func TestCancel(t *testing.T) {
	t.Parallel()
	b := newBuilder(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var err error
	go func() {
		defer wg.Done()
		_, err = b.Check(ctx, repoWith(t, hookHang), project.Options{})
	}()
	// Cancel once the builder is known to have started.
	for b.Stats().Started == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if lost := b.Stats().Lost; len(lost) != 0 {
		t.Fatalf("a cancelled build counted as lost: %v", lost)
	}
}

// TestScrubbedEnvironmentNoNetwork: a builder sees only its marker in its
// environment and, where namespaces are allowed, has no network.
func TestScrubbedEnvironmentNoNetwork(t *testing.T) {
	t.Setenv("FLOWGATE_ADMIN_TOKEN", "secret-token-should-not-pass")
	var logs bytes.Buffer
	var mu sync.Mutex
	h := slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }), &slog.HandlerOptions{Level: slog.LevelDebug})
	b := newBuilder(t, Options{Logger: slog.New(h)})
	if _, err := b.Check(context.Background(), repoWith(t, hookReport), project.Options{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "ENV="+builderEnv+"="+builderVersion+" ") || strings.Contains(out, "secret-token") {
		t.Fatalf("builder environment: %s", out)
	}
	if b.Stats().Isolated && !strings.Contains(out, "network is unreachable") {
		t.Fatalf("an isolated builder reached the network: %s", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestHostileBuildCorpus runs the build layer of the hostile corpus
// through builder processes (check and import scan), and the cases the
// in-process walls catch through project.Check in this process too: each
// fails its check with the expected located diagnostic, or passes.
func TestHostileBuildCorpus(t *testing.T) {
	t.Parallel()
	b := newBuilder(t, Options{Concurrency: 2})
	for _, c := range hostilebuild.Load(t, filepath.Join("..", "..")) {
		t.Run(c.Name, func(t *testing.T) {
			repo := hostilebuild.Materialize(t, c)
			check := func(how string, rep *project.Report, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				errs := 0
				for _, d := range rep.Diagnostics {
					if d.Severity == diag.Error {
						errs++
						if errs == 1 && c.Rule != "" && (d.Rule != c.Rule || d.File != c.File) {
							t.Errorf("%s: first error %v, want %s at %s", how, d, c.Rule, c.File)
						}
					}
				}
				if c.Rule == "" && errs > 0 || c.Rule != "" && errs == 0 {
					t.Errorf("%s: diagnostics %v, want rule %q", how, rep.Diagnostics, c.Rule)
				}
			}
			rep, err := b.Check(context.Background(), repo, project.Options{})
			check("builder", rep, err)
			entries := []string{"kindeSrc/environment/workflows/xWorkflow.ts"}
			if _, ds, err := b.ScanImports(context.Background(), repo, entries); err != nil || (c.Layer == "guard" && len(ds) > 0) {
				t.Errorf("scan: %v %v", ds, err)
			}
			if c.Layer == "guard" {
				rep, err := project.Check(context.Background(), repo, project.Options{})
				check("in process", rep, err)
			}
		})
	}
}
