package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/store"
)

// devPoll is how often the dev repo is checked for changes.
const devPoll = time.Second

// watchDevRepo syncs the dev repo into the dev environment whenever it
// changes, like a push would, through the same pipeline: a git repository
// on each new commit (its committed tree: uncommitted edits wait for their
// commit), any other directory on each saved change (a copy without
// node_modules). The sync is a durable job keyed by the commit (or the
// directory's content), so a restart with nothing new deploys nothing.
func (a *App) watchDevRepo(ctx context.Context) {
	dir, err := filepath.Abs(a.cfg.DevRepo)
	if err != nil {
		a.log.Error("dev repo", "err", err)
		return
	}
	what := "every saved change"
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		what = "every commit"
	}
	fmt.Fprintf(a.out, "flowgate: watching %s — %s syncs into environment %q\n", dir, what, a.cfg.Environment)
	var last, lastFP, lastErr string
	demoDone := !a.cfg.Demo
	t := time.NewTicker(devPoll)
	defer t.Stop()
	for {
		ref, fp, err := devRef(ctx, dir, lastFP, last)
		switch {
		case err != nil:
			if err.Error() != lastErr {
				a.log.Warn("dev repo unreadable", "dir", dir, "err", err)
				lastErr = err.Error()
			}
		case ref != last:
			lastErr = ""
			res, err := a.jobs.EnqueueSync(ctx, deploy.SyncArgs{Env: a.cfg.Environment, Source: deploy.JobSource{Kind: "dev", Ref: dir}, CommitSHA: ref})
			if err != nil {
				a.log.Error("queue dev sync", "err", err)
				break
			}
			last, lastFP = ref, fp
			a.log.Info("dev repo changed: sync queued", "ref", ref, "duplicate", res.Duplicate)
			if !demoDone {
				demoDone = true
				go a.demo(ctx, dir, ref)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// devRef names the dev repo's state as its sync's commit: the commit HEAD
// points at, or for a plain directory a hash of its contents — computed
// only when a cheap fingerprint (paths, sizes, modification times) moved
// from lastFP; otherwise lastRef stands.
func devRef(ctx context.Context, dir, lastFP, lastRef string) (ref, fp string, err error) {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		ref, err := deploy.DirRef(ctx, dir)
		return ref, "", err
	}
	fp, err = treeFingerprint(dir)
	if err != nil {
		return "", "", err
	}
	if fp == lastFP && lastRef != "" {
		return lastRef, fp, nil
	}
	ref, err = deploy.DirRef(ctx, dir)
	return ref, fp, err
}

// treeFingerprint hashes every file's path, size and modification time
// (not contents: cheap every second), leaving out .git and node_modules.
func treeFingerprint(dir string) (string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if len(lines) > 20000 {
			return fmt.Errorf("more than 20000 files: is %s the right directory?", dir)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		lines = append(lines, fmt.Sprintf("%s\x00%d\x00%d\x00%v", rel, info.Size(), info.ModTime().UnixNano(), d.Type()))
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:]), nil
}

// demo waits for the dev repo's first sync, then calls the runtime API
// over HTTP with each event file under <repo>/events whose trigger has a
// live workflow, printing the command to repeat it and the Result.
func (a *App) demo(ctx context.Context, dir, ref string) {
	sy, err := a.waitSync(ctx, ref, 2*time.Minute)
	if err != nil {
		fmt.Fprintf(a.out, "flowgate demo: %v\n", err)
		return
	}
	fmt.Fprintf(a.out, "flowgate demo: sync %s of %s %s\n", sy.ID, ref, sy.Status)
	for _, e := range sy.Log {
		at := e.File
		if e.Line > 0 {
			at = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
		}
		fmt.Fprintf(a.out, "  %s: %s: %s %s\n", e.Severity, at, e.Message, brackets(e.Rule))
	}
	if sy.Status != store.SyncSucceeded {
		return
	}
	wfs, err := a.deploy.Workflows(ctx, a.cfg.Environment)
	if err != nil {
		fmt.Fprintf(a.out, "flowgate demo: %v\n", err)
		return
	}
	for _, wf := range wfs {
		fmt.Fprintf(a.out, "flowgate demo: workflow %s (%s) live deployment %s\n", wf.ID, wf.Trigger, wf.LiveDeploymentID)
	}
	events, _ := filepath.Glob(filepath.Join(dir, "events", "*.json"))
	for _, f := range events {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var ev struct {
			Context struct {
				Workflow struct {
					Trigger string `json:"trigger"`
				} `json:"workflow"`
			} `json:"context"`
		}
		if json.Unmarshal(data, &ev) != nil || ev.Context.Workflow.Trigger == "" {
			continue
		}
		url := fmt.Sprintf("%s/api/v1/environments/%s/triggers/%s", a.URL(), a.cfg.Environment, ev.Context.Workflow.Trigger)
		fmt.Fprintf(a.out, "\nflowgate demo: calling the runtime API, as an auth server would:\n  curl -s -X POST -H \"Authorization: Bearer $(cat %s)\" --data @%s %s\n",
			filepath.Join(a.cfg.DataDir, "runtime-token"), f, url)
		body, err := a.call(ctx, url, data)
		if err != nil {
			fmt.Fprintf(a.out, "flowgate demo: %v\n", err)
			continue
		}
		fmt.Fprintf(a.out, "%s\n", body)
	}
	change := "Edit a workflow under %s"
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		change = "Commit a change to a workflow in %s"
	}
	fmt.Fprintf(a.out, "\nflowgate demo: done. "+change+" to see it sync and go live again; Ctrl-C stops.\n", dir)
}

// waitSync waits until the sync of ref has finished.
func (a *App) waitSync(ctx context.Context, ref string, limit time.Duration) (store.Sync, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		syncs, err := a.deploy.Syncs(ctx, a.cfg.Environment, 20)
		if err != nil {
			return store.Sync{}, err
		}
		for _, s := range syncs {
			if s.CommitSHA == ref && s.Finished() {
				return s, nil
			}
		}
		select {
		case <-ctx.Done():
			return store.Sync{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return store.Sync{}, fmt.Errorf("the sync of %s did not finish within %s", ref, limit)
}

func (a *App) call(ctx context.Context, url string, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.runtimeToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("runtime API answered %s: %s", resp.Status, body)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "  ", "  ") == nil {
		return append([]byte("  "), pretty.Bytes()...), err
	}
	return body, err
}

func brackets(rule string) string {
	if rule == "" {
		return ""
	}
	return "[" + rule + "]"
}
