package release

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The Action's release step (action.yml, id: release) is a bash script;
// these tests run that exact script against a local server that plays
// GitHub's release download, with real archives and checksums.txt written
// by this package. .ci/act.sh runs the whole Action under act as well.

// releaseStep returns the run: script of the step with id "release".
func releaseStep(t *testing.T) string {
	t.Helper()
	lines := strings.Split(repoFile(t, "action.yml"), "\n")
	inStep, inRun := false, false
	var script []string
	for _, line := range lines {
		switch {
		case strings.TrimSpace(line) == "- id: release":
			inStep = true
		case inStep && !inRun && strings.TrimSpace(line) == "run: |":
			inRun = true
		case inRun:
			if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "        ") {
				return strings.Join(script, "\n")
			}
			script = append(script, strings.TrimPrefix(line, "        "))
		}
	}
	if !inRun {
		t.Fatal("action.yml has no step 'id: release' with a run: script")
	}
	return strings.Join(script, "\n")
}

type releaseServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

// serveRelease serves files under /<tag>/<name>; a nil map is a release that
// does not exist, status overrides answer a path with an error.
func serveRelease(t *testing.T, tag string, files map[string][]byte, status map[string]int) *releaseServer {
	s := &releaseServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.Path)
		s.mu.Unlock()
		if code, ok := status[r.URL.Path]; ok {
			http.Error(w, "nope", code)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/"+tag+"/")
		data, found := files[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *releaseServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// releaseFiles builds a real release of a fake CLI for the given archive
// names: the archive holds a script printing marker, checksums.txt its sum.
func releaseFiles(t *testing.T, marker string, archives ...string) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{}
	var names []string
	for _, name := range archives {
		exe := "flowgate"
		if strings.HasSuffix(name, ".zip") {
			exe = "flowgate.exe"
		}
		bin := filepath.Join(dir, "bin-"+name, exe)
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, []byte("#!/bin/sh\necho "+marker+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteArchive(&buf, name, []Entry{{Name: exe, Path: bin}}, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = buf.Bytes()
		names = append(names, name)
	}
	sums, err := Checksums(dir, names)
	if err != nil {
		t.Fatal(err)
	}
	files["checksums.txt"] = sums
	return files
}

type stepResult struct {
	code    int
	log     string
	outputs map[string]string
}

type runner struct {
	os, arch, cache, temp string
}

func newRunner(t *testing.T, os, arch string) runner {
	return runner{os: os, arch: arch, cache: t.TempDir(), temp: t.TempDir()}
}

func (r runner) run(t *testing.T, script, version, actionRef, url string) stepResult {
	t.Helper()
	bash := needTool(t, "bash")
	needTool(t, "curl")
	needTool(t, "tar")
	out := filepath.Join(t.TempDir(), "github_output")
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "-e", "-c", script)
	cmd.Env = append(os.Environ(),
		"GITHUB_OUTPUT="+out, "RUNNER_OS="+r.os, "RUNNER_ARCH="+r.arch,
		"RUNNER_TOOL_CACHE="+r.cache, "RUNNER_TEMP="+r.temp,
		"FLOWGATE_VERSION="+version, "FLOWGATE_ACTION_REF="+actionRef,
		"FLOWGATE_RELEASE_URL_INPUT="+url, "FLOWGATE_RELEASE_URL=")
	log, err := cmd.CombinedOutput()
	res := stepResult{log: string(log), outputs: map[string]string{}}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			res.outputs[k] = v
		}
	}
	return res
}

const tag = "v1.2.3"

func TestActionDownloadsAndCachesTheRelease(t *testing.T) {
	script := releaseStep(t)
	for name, tc := range map[string]struct {
		os, arch, archive string
	}{
		"linux amd64":   {"Linux", "X64", "flowgate_v1.2.3_linux_amd64.tar.gz"},
		"macOS arm64":   {"macOS", "ARM64", "flowgate_v1.2.3_darwin_arm64.tar.gz"},
		"windows amd64": {"Windows", "X64", "flowgate_v1.2.3_windows_amd64.zip"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.os == "Windows" {
				needTool(t, "unzip")
			}
			files := releaseFiles(t, "the-real-cli", "flowgate_v1.2.3_linux_amd64.tar.gz",
				"flowgate_v1.2.3_darwin_arm64.tar.gz", "flowgate_v1.2.3_windows_amd64.zip")
			srv := serveRelease(t, tag, files, nil)
			r := newRunner(t, tc.os, tc.arch)
			// The default version is the action's own ref.
			res := r.run(t, script, "", tag, srv.URL)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.log)
			}
			exe := "flowgate"
			if tc.os == "Windows" {
				exe = "flowgate.exe"
			}
			want := filepath.Join(r.cache, "flowgate", "1.2.3", strings.ToLower(tc.arch), exe)
			if res.outputs["path"] != want {
				t.Fatalf("path=%q, want %q\n%s", res.outputs["path"], want, res.log)
			}
			got, err := os.ReadFile(want)
			if err != nil || !strings.Contains(string(got), "the-real-cli") {
				t.Fatalf("cached CLI: %q, %v", got, err)
			}
			if _, err := os.Stat(filepath.Dir(want) + ".complete"); err != nil {
				t.Errorf("no tool-cache marker: %v", err)
			}
			if seen := srv.seen(); len(seen) != 2 || seen[0] != "/v1.2.3/checksums.txt" || seen[1] != "/v1.2.3/"+tc.archive {
				t.Errorf("requests %q", seen)
			}
			// Again on the same runner: the tool cache, no download.
			res = r.run(t, script, tag, "", srv.URL)
			if res.code != 0 || res.outputs["path"] != want || !strings.Contains(res.log, "from the tool cache") {
				t.Fatalf("second run: exit %d, path %q\n%s", res.code, res.outputs["path"], res.log)
			}
			if n := len(srv.seen()); n != 2 {
				t.Errorf("the second run downloaded again (%d requests)", n)
			}
		})
	}
}

func TestActionRefusesBadReleases(t *testing.T) {
	script := releaseStep(t)
	const archive = "flowgate_v1.2.3_linux_amd64.tar.gz"
	good := releaseFiles(t, "the-real-cli", archive)
	evil := releaseFiles(t, "an-impostor", archive)
	with := func(base map[string][]byte, name string, data []byte) map[string][]byte {
		m := map[string][]byte{}
		for k, v := range base {
			m[k] = v
		}
		m[name] = data
		return m
	}
	sumLine := strings.TrimSpace(string(good["checksums.txt"]))
	for name, tc := range map[string]struct {
		files  map[string][]byte
		status map[string]int
		want   string
	}{
		"another archive, the real checksums": {with(good, archive, evil[archive]), nil, "checksum mismatch for " + archive},
		"a truncated archive":                 {with(good, archive, good[archive][:len(good[archive])/2]), nil, "checksum mismatch"},
		"no line for the archive":             {with(good, "checksums.txt", []byte("0000  other.tar.gz\n")), nil, "no single sha256 for " + archive},
		"two lines for the archive":           {with(good, "checksums.txt", []byte(sumLine+"\n"+strings.Replace(sumLine, sumLine[:1], "f", 1)+"\n")), nil, "no single sha256"},
		"not a sha256":                        {with(good, "checksums.txt", []byte("$(touch /tmp/x)  "+archive+"\n")), nil, "no single sha256"},
		"the archive is missing":              {good, map[string]int{"/v1.2.3/" + archive: 404}, "could not be downloaded (HTTP 404)"},
		"the server fails":                    {good, map[string]int{"/v1.2.3/checksums.txt": 500}, "HTTP 500"},
		"an archive without the CLI":          {withoutCLI(t, archive), nil, "holds no file flowgate"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := serveRelease(t, tag, tc.files, tc.status)
			r := newRunner(t, "Linux", "X64")
			res := r.run(t, script, tag, "", srv.URL)
			if res.code == 0 || !strings.Contains(res.log, tc.want) {
				t.Fatalf("exit %d, want a failure saying %q:\n%s", res.code, tc.want, res.log)
			}
			if res.outputs["path"] != "" || res.outputs["build"] != "" {
				t.Errorf("a refused release still produced outputs %v", res.outputs)
			}
			if strings.Contains(res.log, "an-impostor") {
				t.Error("the impostor ran")
			}
			entries, _ := os.ReadDir(r.cache)
			if len(entries) > 0 {
				t.Errorf("the tool cache holds %v after a refused download", entries)
			}
		})
	}
}

func TestActionChoosesWhereTheCLIComesFrom(t *testing.T) {
	script := releaseStep(t)
	srv := serveRelease(t, tag, nil, nil) // no release at all: every file is a 404
	for name, tc := range map[string]struct {
		version, ref, url string
		code              int
		want              map[string]string
		log               string
		requests          int
	}{
		"a local action":                 {"", "", srv.URL, 0, map[string]string{"build": "local"}, "building from the action's source", 0},
		"the action pinned to a commit":  {"", "0123456789abcdef0123456789abcdef01234567", srv.URL, 0, map[string]string{"build": "local"}, "not a release tag", 0},
		"a branch":                       {"main", "v1.0.0", srv.URL, 0, map[string]string{"build": "module", "version": "main"}, "not a release tag", 0},
		"a tag without a release":        {"v9.9.9", "v1.0.0", srv.URL, 0, map[string]string{"build": "module", "version": "v9.9.9"}, "there is no release v9.9.9", 1},
		"the action's tag, no release":   {"", "v9.9.9", srv.URL, 0, map[string]string{"build": "local"}, "there is no release v9.9.9", 1},
		"an unsupported runner":          {"v1.2.3", "", srv.URL, 0, map[string]string{"build": "module", "version": "v1.2.3"}, "no release build", 0},
		"a command in the version":       {"v1.2.3$(touch x)", "", srv.URL, 2, map[string]string{}, "input 'version' must be", 0},
		"a path in the version":          {"v1.2.3/../../etc", "", srv.URL, 2, map[string]string{}, "input 'version' must be", 0},
		"plain http to another host":     {"v1.2.3", "", "http://example.com/releases", 2, map[string]string{}, "release-url must be https://", 0},
		"a file URL":                     {"v1.2.3", "", "file:///etc", 2, map[string]string{}, "release-url must be https://", 0},
		"localhost look-alike":           {"v1.2.3", "", "http://localhost.example.com/x", 2, map[string]string{}, "release-url must be https://", 0},
		"plain http to localhost is ok":  {"v9.9.9", "", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), 0, map[string]string{"build": "module", "version": "v9.9.9"}, "there is no release", 1},
		"a prerelease tag is downloaded": {"v1.3.0-rc.1", "", srv.URL, 0, map[string]string{"build": "module", "version": "v1.3.0-rc.1"}, "there is no release v1.3.0-rc.1", 1},
	} {
		t.Run(name, func(t *testing.T) {
			before := len(srv.seen())
			r := newRunner(t, "Linux", "X64")
			if name == "an unsupported runner" {
				r.arch = "S390X"
			}
			res := r.run(t, script, tc.version, tc.ref, tc.url)
			if res.code != tc.code || !strings.Contains(res.log, tc.log) {
				t.Fatalf("exit %d (want %d), want the log to say %q:\n%s", res.code, tc.code, tc.log, res.log)
			}
			for k, v := range tc.want {
				if res.outputs[k] != v {
					t.Errorf("output %s=%q, want %q", k, res.outputs[k], v)
				}
			}
			if len(tc.want) == 0 && len(res.outputs) > 0 {
				t.Errorf("outputs %v, want none", res.outputs)
			}
			if res.outputs["path"] != "" {
				t.Errorf("path=%q without a release", res.outputs["path"])
			}
			if n := len(srv.seen()) - before; n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

// withoutCLI is a release whose (correctly summed) archive holds no flowgate.
func withoutCLI(t *testing.T, archive string) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("no binary here"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteArchive(&buf, archive, []Entry{{Name: "README.md", Path: readme}}, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, archive), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sums, err := Checksums(dir, []string{archive})
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{archive: buf.Bytes(), "checksums.txt": sums}
}

// needTool finds a command the Action's script uses on runners. Locally a
// missing one skips the test; in CI (FLOWGATE_REQUIRE_DEPS=1) it fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FLOWGATE_REQUIRE_DEPS") == "1" {
			t.Fatalf("%s is not installed (the Action's release step needs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}
