package release

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Docker is not available where the tests run, so the image build's two
// modes are checked by running the Dockerfile's build script itself with sh:
// APP_FROM=source cross-compiles for TARGETOS/TARGETARCH, APP_FROM=prebuilt
// copies the binary .ci/release.sh stages for that platform, anything else
// fails. The build context must let the staged binaries in.

func repoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildScript returns the shell text of the Dockerfile's RUN that writes
// /out/flowgate-app, without its --mount flags.
func buildScript(t *testing.T) string {
	t.Helper()
	src := repoFile(t, "Dockerfile")
	joined := regexp.MustCompile(`\\\n`).ReplaceAllString(src, " ")
	for _, line := range strings.Split(joined, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "RUN ") || !strings.Contains(line, "/out/flowgate-app") {
			continue
		}
		script := strings.TrimPrefix(line, "RUN ")
		for strings.HasPrefix(strings.TrimSpace(script), "--mount=") {
			script = strings.TrimSpace(script)
			_, script, _ = strings.Cut(script, " ")
		}
		return script
	}
	t.Fatal("the Dockerfile has no RUN that writes /out/flowgate-app")
	return ""
}

func TestDockerfileBuildModes(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	script := buildScript(t)
	for name, tc := range map[string]struct {
		mode, os, arch string
		wantFail       string
		wantBinary     string // what /out/flowgate-app must hold
		wantGo         string // the go command the fake toolchain saw
	}{
		"source amd64":   {mode: "source", os: "linux", arch: "amd64", wantBinary: "compiled", wantGo: "GOOS=linux GOARCH=amd64 build -trimpath"},
		"source arm64":   {mode: "source", os: "linux", arch: "arm64", wantBinary: "compiled", wantGo: "GOOS=linux GOARCH=arm64 build -trimpath"},
		"prebuilt arm64": {mode: "prebuilt", os: "linux", arch: "arm64", wantBinary: "release linux_arm64"},
		"prebuilt amd64": {mode: "prebuilt", os: "linux", arch: "amd64", wantBinary: "release linux_amd64"},
		"prebuilt s390x": {mode: "prebuilt", os: "linux", arch: "s390x", wantFail: "linux_s390x"},
		"unknown mode":   {mode: "git", os: "linux", arch: "amd64", wantFail: "APP_FROM must be source or prebuilt"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, out, bin := filepath.Join(dir, "src"), filepath.Join(dir, "out"), filepath.Join(dir, "bin")
			for _, arch := range []string{"amd64", "arm64"} {
				p := filepath.Join(ctx, "dist", "image", "linux_"+arch)
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(p, "flowgate-app"), []byte("release linux_"+arch), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// A fake go that records how it was called and writes its -o file.
			fakeGo := `#!/bin/sh
echo "GOOS=$GOOS GOARCH=$GOARCH $*" > "` + filepath.Join(dir, "go.log") + `"
while [ $# -gt 0 ]; do [ "$1" = -o ] && printf compiled > "$2"; shift; done
`
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sh, "-ec", strings.ReplaceAll(script, "/out", out))
			cmd.Dir = ctx
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"),
				"APP_FROM="+tc.mode, "TARGETOS="+tc.os, "TARGETARCH="+tc.arch)
			output, err := cmd.CombinedOutput()
			if tc.wantFail != "" {
				if err == nil || !strings.Contains(string(output), tc.wantFail) {
					t.Fatalf("want a failure mentioning %q, got %v: %s", tc.wantFail, err, output)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, output)
			}
			got, err := os.ReadFile(filepath.Join(out, "flowgate-app"))
			if err != nil || string(got) != tc.wantBinary {
				t.Fatalf("/out/flowgate-app = %q (%v), want %q", got, err, tc.wantBinary)
			}
			if fi, err := os.Stat(filepath.Join(out, "data")); err != nil || !fi.IsDir() {
				t.Errorf("/out/data (the volume's directory) was not made: %v", err)
			}
			goLog, _ := os.ReadFile(filepath.Join(dir, "go.log"))
			if tc.wantGo == "" && len(goLog) > 0 {
				t.Errorf("prebuilt mode ran go: %s", goLog)
			}
			if tc.wantGo != "" && !strings.HasPrefix(string(goLog), tc.wantGo) {
				t.Errorf("go ran as %q, want %q…", goLog, tc.wantGo)
			}
		})
	}
}

// TestReleaseStagesWhatTheImageCopies ties the three files together: the
// path release.sh stages, the path the Dockerfile copies and the build
// context's ignore rules.
func TestReleaseStagesWhatTheImageCopies(t *testing.T) {
	if !strings.Contains(buildScript(t), `"dist/image/${TARGETOS}_${TARGETARCH}/flowgate-app"`) {
		t.Error("the Dockerfile's prebuilt mode does not copy dist/image/${TARGETOS}_${TARGETARCH}/flowgate-app")
	}
	if !strings.Contains(repoFile(t, ".ci/release.sh"), `"$dest/image/linux_$arch/flowgate-app"`) {
		t.Error(".ci/release.sh does not stage image/linux_<arch>/flowgate-app")
	}
	ignore := repoFile(t, ".dockerignore")
	for p, want := range map[string]bool{
		"dist/image/linux_arm64/flowgate-app":               true,
		"dist/flowgate_v1.0.0_linux_amd64.tar.gz":           false,
		"cmd/flowgate-app/main.go":                          true,
		"internal/release/testdata/x":                       false,
		"testdata/npm/node_modules/@kinde/x/package.json":   false,
		"dist/flowgate-app_v1.0.0_linux_amd64.spdx.json":    false,
		"dist/image/linux_amd64/flowgate-app_something.txt": true,
		"flowgate-data/master.key":                          false,
		"flowgate-data/admin-token":                         false,
	} {
		if got := dockerIncludes(ignore, p); got != want {
			t.Errorf("build context includes %s: %v, want %v", p, got, want)
		}
	}
}

// dockerIncludes applies .dockerignore rules as Docker does: the last
// pattern that matches the path or one of its parents decides; "!" includes.
func dockerIncludes(rules, p string) bool {
	included := true
	for _, line := range strings.Split(rules, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		exclude := !strings.HasPrefix(line, "!")
		pattern := strings.TrimPrefix(line, "!")
		for q := p; q != "." && q != "/"; q = path.Dir(q) {
			if globMatch(pattern, q) {
				included = !exclude
				break
			}
		}
	}
	return included
}

// globMatch is path.Match plus "**/" (any number of leading directories).
func globMatch(pattern, name string) bool {
	if rest, ok := strings.CutPrefix(pattern, "**/"); ok {
		for q := name; ; {
			if ok, _ := path.Match(rest, q); ok {
				return true
			}
			i := strings.Index(q, "/")
			if i < 0 {
				return false
			}
			q = q[i+1:]
		}
	}
	ok, _ := path.Match(pattern, name)
	return ok
}
