package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/bundle"
	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/workflow"
)

// replayFlags are the flags of `flowgate test --replay`.
type replayFlags struct {
	dir, against, server, token, environment, env, format string
	maxDiffs                                              int
}

// replayOptions is what runReplay needs besides its flags.
type replayOptions struct {
	repo, isolation string
	stdout, stderr  io.Writer
}

// runReplay is `flowgate test --replay DIR --against BASELINE [REPO]`:
// the recorded calls in DIR replayed against the repository's build (the
// candidate) and the baseline, and the behaviour diff printed. Exit 0: no
// behaviour change; 1: behaviour changed, or the repository has errors;
// 2: bad usage or could not run.
func runReplay(f *replayFlags, o replayOptions) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(o.stderr, "flowgate test: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case f.against == "":
		return fail("--replay needs --against: a build folder from \"flowgate build\", its manifest.json, \"live\" or deployment ids on --server")
	case f.format != "text" && f.format != "markdown" && f.format != "json":
		return fail("unknown --format %q: use text, markdown or json", f.format)
	case f.maxDiffs < 0:
		return fail("--max-diffs must be 0 or more")
	}
	events, err := replay.ReadDir(f.dir)
	if err != nil {
		return fail("--replay: %v", err)
	}
	if len(events) == 0 {
		return fail("--replay: no recorded calls (*.json, *.jsonl) in %s", f.dir)
	}
	var env map[string]bindings.EnvVar
	if f.env != "" {
		if env, err = readEnvFile(f.env); err != nil {
			return fail("%v", err)
		}
	}
	runner, err := newRunner(o.isolation, o.stderr)
	if err != nil {
		return fail("%v", err)
	}
	defer runner.Close()
	ctx := context.Background()

	baseline, err := loadBaseline(ctx, f, runner, o.stderr)
	if err != nil {
		return fail("--against %s: %v", printable(f.against), err)
	}
	r, err := checkRepo(o.repo, o.isolation, runner, o.stderr)
	if err != nil {
		return fail("%v", err)
	}
	diag.WriteText(o.stderr, fromCwd(o.repo, r.Diagnostics))
	if !r.OK() {
		fmt.Fprintf(o.stderr, "%s; nothing replayed\n", summary(r))
		return exitProblems
	}
	var candidate []invoke.Workflow
	for _, w := range r.Workflows {
		candidate = append(candidate, asInvokeWorkflows(w)...)
	}
	rep := replay.Run(ctx, runner, replay.Input{Candidate: candidate, Baseline: baseline, Events: events, Env: env, MaxDiffs: f.maxDiffs})
	switch f.format {
	case "markdown":
		fmt.Fprint(o.stdout, rep.Markdown())
	case "json":
		writeJSON(o.stdout, rep)
	default:
		fmt.Fprint(o.stdout, rep.Text())
	}
	if rep.Changed() {
		return exitProblems
	}
	return exitOK
}

// loadBaseline reads the baseline build: a local path (a build folder,
// its manifest.json or one of its bundles), else deployments on a server
// (always, with --server).
func loadBaseline(ctx context.Context, f *replayFlags, runner sandbox.Runner, stderr io.Writer) ([]invoke.Workflow, error) {
	if _, err := os.Stat(f.against); err == nil && f.server == "" {
		return loadBuild(ctx, f.against, runner)
	}
	if f.server == "" && (strings.ContainsAny(f.against, `/\`) || strings.HasSuffix(f.against, ".json") || strings.HasSuffix(f.against, ".js")) {
		return nil, errors.New("no such file or folder")
	}
	r := &remote{name: "test", server: f.server, token: f.token, env: f.environment, stderr: stderr,
		client: &http.Client{Timeout: 60 * time.Second, CheckRedirect: refuseRedirect}}
	if _, ok := r.resolve(); !ok {
		return nil, errors.New("no server to read deployments from")
	}
	return loadDeployments(ctx, r, f.against)
}

// loadBuild reads a `flowgate build` output: every workflow of its
// manifest, or only the one bundle named. Files are read through os.Root
// (nothing outside the folder) and checked against the manifest's
// SHA-256; the settings are read from each bundle in the sandbox, as a
// sync reads them.
func loadBuild(ctx context.Context, path string, runner sandbox.Runner) ([]invoke.Workflow, error) {
	dir, only := path, ""
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		dir = filepath.Dir(path)
		if base := filepath.Base(path); base != bundle.ManifestName {
			only = base
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := readBounded(root.FS(), bundle.ManifestName, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("read the build's manifest: %w", err)
	}
	m, err := bundle.ParseManifest(data)
	if err != nil {
		return nil, err
	}
	var out []invoke.Workflow
	for _, e := range m.Workflows {
		if only != "" && e.Bundle != only {
			continue
		}
		code, err := readBounded(root.FS(), e.Bundle, bundle.MaxBundleSize)
		if err != nil {
			return nil, fmt.Errorf("workflow %s: %w", e.ID, err)
		}
		if sum := sha256.Sum256(code); hex.EncodeToString(sum[:]) != e.SHA256 {
			return nil, fmt.Errorf("workflow %s: %s does not match the manifest's sha256", e.ID, e.Bundle)
		}
		sourceMap, err := readBounded(root.FS(), e.SourceMap, 4*bundle.MaxBundleSize)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("workflow %s: %w", e.ID, err)
		}
		in := runner.ReadSettings(ctx, project.InspectInput{File: e.Bundle, Code: code, SourceMap: sourceMap})
		if !in.HasSettings || diag.HasErrors(in.Diagnostics) || in.Settings.ID != e.ID {
			return nil, fmt.Errorf("workflow %s: its settings cannot be read from %s", e.ID, e.Bundle)
		}
		out = append(out, invoke.Workflow{Settings: in.Settings, Code: code, SourceMap: sourceMap})
	}
	if len(out) == 0 {
		return nil, errors.New("the build has no workflow to run")
	}
	return out, nil
}

// readBounded reads a regular file of at most max bytes.
func readBounded(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, max)
	}
	return data, nil
}

// loadDeployments downloads deployments' builds from the management API:
// "live" for every workflow's live deployment, else deployment ids
// separated by commas.
func loadDeployments(ctx context.Context, r *remote, against string) ([]invoke.Workflow, error) {
	var ids []string
	if against == "live" {
		data, err := r.call(ctx, http.MethodGet, "/workflows", nil)
		if err != nil {
			return nil, err
		}
		var v struct {
			Workflows []struct {
				LiveDeploymentID string `json:"liveDeploymentId"`
			} `json:"workflows"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("the server's answer is not JSON: %w", err)
		}
		for _, w := range v.Workflows {
			if w.LiveDeploymentID != "" {
				ids = append(ids, w.LiveDeploymentID)
			}
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("environment %s has no live workflow", printable(r.env))
		}
	} else {
		for _, id := range strings.Split(against, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	var out []invoke.Workflow
	for _, id := range ids {
		data, err := r.call(ctx, http.MethodGet, "/deployments/"+url.PathEscape(id)+"/artifact", nil)
		if err != nil {
			return nil, fmt.Errorf("deployment %s: %w", printable(id), err)
		}
		var a struct {
			Settings     workflow.Settings `json:"settings"`
			BundleSHA256 string            `json:"bundleSha256"`
			Bundle       []byte            `json:"bundle"`
			SourceMap    []byte            `json:"sourceMap"`
		}
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, fmt.Errorf("deployment %s: the server's answer is not a build: %w", printable(id), err)
		}
		if sum := sha256.Sum256(a.Bundle); !bytes.Equal([]byte(hex.EncodeToString(sum[:])), []byte(a.BundleSHA256)) {
			return nil, fmt.Errorf("deployment %s: the bundle does not match its sha256", printable(id))
		}
		out = append(out, invoke.Workflow{Settings: a.Settings, Code: a.Bundle, SourceMap: a.SourceMap})
	}
	return out, nil
}
