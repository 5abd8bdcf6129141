package terraform_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Docker cannot run on the CI machines, so the app image's Dockerfile is
// checked for the properties the ECS task definition relies on: a multi-stage
// build of ./cmd/flowgate-app without cgo, a small final image running as the non-root
// user 65532 (the task definition's "user"), the app port exposed, and an
// exec-form entrypoint (the final image has no shell).

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, ...
	args string
}

func parseDockerfile(src string) []instruction {
	var out []instruction
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		start := i
		text := strings.TrimSpace(lines[i])
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		for strings.HasSuffix(text, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") {
				continue
			}
			text = strings.TrimSuffix(text, `\`) + " " + next
		}
		cmd, args, _ := strings.Cut(text, " ")
		out = append(out, instruction{line: start + 1, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
	}
	return out
}

// stage is one FROM and the instructions under it.
type stage struct {
	image, name string
	body        []instruction
}

func stages(ins []instruction) []stage {
	var out []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			var s stage
			fields := strings.Fields(in.args)
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"):
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					s.name = fields[i+1]
					i++
				case s.image == "":
					s.image = fields[i]
				}
			}
			out = append(out, s)
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].body = append(out[len(out)-1].body, in)
		}
	}
	return out
}

func lintDockerfile(src string) []string {
	var problems []string
	ins := parseDockerfile(src)
	st := stages(ins)
	if len(st) < 2 {
		return []string{"not a multi-stage build: build in one stage, run from a small image in another"}
	}
	build, final := st[0], st[len(st)-1]
	if !strings.HasPrefix(build.image, "golang:") {
		problems = append(problems, fmt.Sprintf("the build stage must use a golang image, not %q", build.image))
	}
	if strings.Contains(final.image, "golang") {
		problems = append(problems, "the final stage must not be the Go toolchain image")
	}
	if !strings.Contains(final.image, "distroless") && !strings.Contains(final.image, "-slim") && final.image != "scratch" {
		problems = append(problems, fmt.Sprintf("the final image %q is not a small base (distroless, -slim or scratch)", final.image))
	}
	for _, s := range st {
		if strings.HasSuffix(s.image, ":latest") || (!strings.Contains(s.image, ":") && !strings.Contains(s.image, "@") && s.image != "scratch") {
			problems = append(problems, fmt.Sprintf("image %q is not pinned to a tag or digest", s.image))
		}
	}

	var cgoOff, buildsApp bool
	for _, in := range build.body {
		if (in.cmd == "ENV" || in.cmd == "RUN" || in.cmd == "ARG") && strings.Contains(in.args, "CGO_ENABLED=0") {
			cgoOff = true
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/flowgate-app") {
			buildsApp = true
		}
	}
	if !cgoOff {
		problems = append(problems, "the build stage must set CGO_ENABLED=0 (static binary for a libc-free image)")
	}
	if !buildsApp {
		problems = append(problems, "the build stage must `go build ./cmd/flowgate-app`")
	}

	user, copiesBinary, exposes, entrypoint := "", false, false, false
	for _, in := range final.body {
		switch in.cmd {
		case "USER":
			user = in.args
		case "COPY":
			if strings.Contains(in.args, "--from="+build.name) || strings.Contains(in.args, "--from=0") {
				copiesBinary = true
			}
		case "EXPOSE":
			for _, p := range strings.Fields(in.args) {
				if strings.TrimSuffix(p, "/tcp") == "8080" {
					exposes = true
				}
			}
		case "ENTRYPOINT":
			entrypoint = strings.HasPrefix(in.args, "[")
			if !entrypoint {
				problems = append(problems, fmt.Sprintf("line %d: ENTRYPOINT must use the exec form [\"...\"]: the final image has no shell", in.line))
			}
		case "HEALTHCHECK":
			problems = append(problems, fmt.Sprintf("line %d: no HEALTHCHECK: the final image has no shell or curl; the load balancer probes /readyz", in.line))
		case "ADD":
			problems = append(problems, fmt.Sprintf("line %d: use COPY, not ADD", in.line))
		}
	}
	name, _, _ := strings.Cut(user, ":")
	switch name {
	case "":
		problems = append(problems, "the final stage must set a non-root USER")
	case "root", "0":
		problems = append(problems, "the final stage must not run as root")
	case "65532", "nonroot":
	default:
		problems = append(problems, fmt.Sprintf("USER %s: the ECS task definition runs as 65532:65532, use that user", user))
	}
	if !copiesBinary {
		problems = append(problems, "the final stage must COPY the binary --from the build stage")
	}
	if !exposes {
		problems = append(problems, "the final stage must EXPOSE 8080 (FLOWGATE_ADDR)")
	}
	if !entrypoint {
		problems = append(problems, "the final stage needs an ENTRYPOINT")
	}
	return problems
}

func readDockerfile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatalf("read the repository's Dockerfile: %v", err)
	}
	return string(b)
}

func TestDockerfile(t *testing.T) {
	for _, p := range lintDockerfile(readDockerfile(t)) {
		t.Error(p)
	}
}

// TestDockerfileLintCatches makes sure each rule can fail.
func TestDockerfileLintCatches(t *testing.T) {
	good := readDockerfile(t)
	cases := []struct {
		name, old, new, want string
	}{
		{"runs as root", "USER 65532:65532", "USER root", "must not run as root"},
		{"no user", "USER 65532:65532\n", "", "non-root USER"},
		{"single stage", "FROM gcr.io/distroless/static-debian12:nonroot", "", "not a multi-stage build"},
		{"cgo on", "ENV CGO_ENABLED=0 GOTOOLCHAIN=local", "ENV GOTOOLCHAIN=local", "CGO_ENABLED=0"},
		{"other binary", "./cmd/flowgate-app", "./cmd/flowgate", "go build ./cmd/flowgate-app"},
		{"port", "EXPOSE 8080", "EXPOSE 9090", "EXPOSE 8080"},
		{"shell entrypoint", `ENTRYPOINT ["/usr/local/bin/flowgate-app"]`, "ENTRYPOINT /usr/local/bin/flowgate-app", "exec form"},
		{"latest", "gcr.io/distroless/static-debian12:nonroot", "gcr.io/distroless/static-debian12:latest", "not pinned"},
		{"fat final image", "gcr.io/distroless/static-debian12:nonroot", "ubuntu:24.04", "not a small base"},
		{"healthcheck", "EXPOSE 8080", "EXPOSE 8080\nHEALTHCHECK CMD curl -f http://localhost:8080/healthz", "no HEALTHCHECK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(good, tc.old) != 1 {
				t.Fatalf("the Dockerfile must contain %q exactly once; update this case", tc.old)
			}
			bad := strings.Replace(good, tc.old, tc.new, 1)
			problems := lintDockerfile(bad)
			for _, p := range problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("no problem mentioning %q; got %q", tc.want, problems)
		})
	}
}

func TestParseDockerfileJoinsContinuations(t *testing.T) {
	ins := parseDockerfile("# syntax=docker/dockerfile:1\nFROM a:1 AS b\nRUN x \\\n  # comment\n  && y\nUSER 1\n")
	want := []instruction{{2, "FROM", "a:1 AS b"}, {3, "RUN", "x  && y"}, {6, "USER", "1"}}
	if len(ins) != len(want) {
		t.Fatalf("got %d instructions %+v, want %d", len(ins), ins, len(want))
	}
	for i := range want {
		if ins[i] != want[i] {
			t.Errorf("instruction %d = %+v, want %+v", i, ins[i], want[i])
		}
	}
}
