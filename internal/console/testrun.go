package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/flowgate/flowgate/internal/bindings"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/invoke"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// The Test page runs any runnable deployment on an event the person edits,
// in the same sandbox and through the same invoke.Run as the runtime API,
// with the environment's variables and the workflow's active key. It moves
// no live pointer and writes no runtime log: a test is not traffic.

// testChoice is one deployment the Test page offers.
type testChoice struct {
	ID, WorkflowID, Trigger, Label string
}

// testChoices offers each workflow's live and latest deployments, and the
// one the page was opened for (any deployment's page links here).
func (c *Console) testChoices(ctx context.Context, env, want string) ([]testChoice, error) {
	wfs, err := c.deploy.Workflows(ctx, env)
	if err != nil {
		return nil, err
	}
	var out []testChoice
	seen := map[string]bool{}
	add := func(d deploy.Deployment, trigger string) {
		if seen[d.ID] || d.Status == store.Failed || d.Status == store.Processing {
			return
		}
		seen[d.ID] = true
		out = append(out, testChoice{ID: d.ID, WorkflowID: d.WorkflowID, Trigger: trigger,
			Label: fmt.Sprintf("%s · %s · %s (%s)", d.WorkflowID, shortID(d.ID), d.Status, shortID(d.CommitSHA))})
	}
	for _, wf := range wfs {
		for _, id := range []string{want, wf.LiveDeploymentID, wf.LatestDeploymentID} {
			if id == "" || seen[id] {
				continue
			}
			d, err := c.deploy.Deployment(ctx, env, id)
			if errors.Is(err, deploy.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if d.WorkflowID == wf.ID {
				add(d, wf.Trigger)
			}
		}
	}
	return out, nil
}

func (c *Console) testPage(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	sel := r.URL.Query().Get("deployment")
	choices, err := c.testChoices(r.Context(), env, sel)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if sel == "" && len(choices) > 0 {
		sel = choices[0].ID
	}
	event := ""
	for _, ch := range choices {
		if ch.ID == sel {
			event = EventTemplate(ch.Trigger)
		}
	}
	c.render(w, r, http.StatusOK, "test", s, map[string]any{"Title": "Test · " + env, "Tab": "test",
		"Choices": choices, "Selected": sel, "Event": event})
}

func (c *Console) runTest(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	sel, event := r.PostForm.Get("deployment"), r.PostForm.Get("event")
	choices, err := c.testChoices(r.Context(), env, sel)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	data := map[string]any{"Title": "Test · " + env, "Tab": "test", "Choices": choices, "Selected": sel, "Event": event}
	res, problem := c.runDeployment(r.Context(), env, sel, []byte(event))
	status := http.StatusOK
	if problem != "" {
		data["Problem"], status = problem, http.StatusBadRequest
	} else {
		pretty, _ := json.MarshalIndent(res, "", "  ")
		data["Result"], data["ResultJSON"] = res, string(pretty)
		c.audit(r, s, "test-run", env, sel, "status", res.Status)
	}
	c.render(w, r, status, "test", s, data)
}

// runDeployment runs one deployment on an event; problem is for the person
// (bad event, unknown or unrunnable deployment).
func (c *Console) runDeployment(ctx context.Context, env, depID string, event []byte) (*workflow.Result, string) {
	if err := invoke.CheckEvent(event); err != nil {
		return nil, "The event " + err.Error()
	}
	d, err := c.deploy.Deployment(ctx, env, depID)
	if err != nil {
		return nil, "No deployment " + depID + " in " + env + "."
	}
	if d.Status == store.Failed || d.Status == store.Processing {
		return nil, fmt.Sprintf("Deployment %s is %s and cannot run.", d.ID, d.Status)
	}
	var wf invoke.Workflow
	if err := json.Unmarshal(d.Settings, &wf.Settings); err != nil {
		return nil, "Deployment " + d.ID + " has unreadable settings."
	}
	if wf.Code, err = c.deploy.Artifact(ctx, d.BundleDigest); err != nil {
		c.log.Error("console test: bundle", "deployment_id", d.ID, "err", err)
		return nil, "Deployment " + d.ID + "'s bundle could not be read (logged)."
	}
	if d.SourceMapDigest != "" {
		wf.SourceMap, _ = c.deploy.Artifact(ctx, d.SourceMapDigest) // positions only: run without it if it is gone
	}
	vars, err := c.deploy.EnvForInvocation(ctx, env)
	if err != nil {
		c.log.Error("console test: variables", "env", env, "err", err)
		return nil, "The environment's variables could not be read (logged)."
	}
	req := invoke.Request{Workflows: []invoke.Workflow{wf}, WorkflowID: wf.Settings.ID, Trigger: wf.Settings.Trigger,
		Event: event, CacheScope: env, AllowHosts: c.opts.AllowHosts, Env: envVars(vars)}
	if req.EncryptionKey, err = c.deploy.ActiveEncryptionKey(ctx, env, d.WorkflowID); err != nil {
		c.log.Error("console test: key", "env", env, "err", err)
		return nil, "The workflow's encryption key could not be read (logged)."
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return invoke.Run(ctx, c.opts.Runner, req).Result, ""
}

func envVars(vars map[string]deploy.EnvValue) map[string]bindings.EnvVar {
	out := make(map[string]bindings.EnvVar, len(vars))
	for k, v := range vars {
		out[k] = bindings.EnvVar{Value: v.Value, IsSecret: v.IsSecret}
	}
	return out
}
