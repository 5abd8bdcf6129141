package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/testenv"
)

// TestTestGolden runs "flowgate test" on fixture repositories: all cases
// passing, cases failing in each way, and malformed test files.
func TestTestGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"pass", []string{"testdata/testrepo"}, exitOK},
		{"fail", []string{"testdata/testfail"}, exitProblems},
		{"bad", []string{"testdata/testbad"}, exitUsage},
		{"run-filter", []string{"--run", "wrong claim|passes", "testdata/testfail"}, exitProblems},
		{"run-filter-none", []string{"--run", "no such case", "testdata/testfail"}, exitOK},
		{"no-test-files", []string{"testdata/runrepo"}, exitOK},
		{"broken-kinde-json", []string{"testdata/no-kinde-json"}, exitProblems},
		{"syntax-error", []string{"testdata/testsyntax"}, exitProblems},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"test"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit = %d, want %d", code, c.code)
			}
			goldenCheck(t, filepath.Join("test", c.name+".golden"), transcript(stdout, stderr, code))
		})
	}
}

// TestTestStarterExample: the example test file shipped with the starter
// repository passes (with its package installed, as `npm install` does).
func TestTestStarterExample(t *testing.T) {
	t.Parallel()
	dir := testenv.CopyRepo(t, filepath.Join(testenv.Root(), "examples", "starter"), true)
	stdout, stderr, code := cliRun(t, "test", dir)
	if code != exitOK || !strings.HasSuffix(stdout, "3 passed, 0 failed\n") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestTestUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad regexp", []string{"--run", "(", "testdata/testrepo"}, "flowgate test: --run: error parsing regexp"},
		{"two dirs", []string{"testdata/testrepo", "testdata/testrepo"}, "too many arguments"},
		{"missing dir", []string{"testdata/no-such-repo"}, "read repository"},
		{"unknown flag", []string{"-x"}, "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := cliRun(t, append([]string{"test"}, c.args...)...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
			}
		})
	}
}
