package githubapp

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v88/github"
)

// recordFlip shows a live flip in the repository's Deployments view: a
// GitHub Deployment of ref for the environment, with state success (the
// deployments went live) or inactive (a workflow was deactivated). The
// flip already happened, so a GitHub failure here is logged, never
// retried (retrying the job would flip again).
func (a *App) recordFlip(ctx context.Context, r repoRef, env, ref, state, description string, workflows map[string]string, red redactor) (int64, error) {
	cl := a.client(r)
	desc := cutUTF8(red.text(description), 140)
	prod := env == DefaultEnvironment
	dep, _, err := cl.Repositories.CreateDeployment(ctx, r.Owner, r.Name, &github.DeploymentRequest{
		Ref: github.Ptr(ref), Task: github.Ptr("deploy"), AutoMerge: github.Ptr(false),
		RequiredContexts: &[]string{}, // Flowgate's own check runs decided already
		Payload:          map[string]any{"flowgate": map[string]any{"workflows": workflows}},
		Environment:      github.Ptr(env), Description: github.Ptr(desc),
		ProductionEnvironment: github.Ptr(prod),
	})
	if err != nil {
		a.log.Error("record GitHub deployment", "repo", r.Full(), "env", env, "ref", short(ref), "err", err)
		return 0, fmt.Errorf("GitHub deployment for %s: %w", env, err)
	}
	st := &github.DeploymentStatusRequest{State: github.Ptr(state), Description: github.Ptr(desc),
		Environment: github.Ptr(env), AutoInactive: github.Ptr(state == "success")}
	if u := a.logURL(env); u != "" {
		st.LogURL = github.Ptr(u)
	}
	if _, _, err := cl.Repositories.CreateDeploymentStatus(ctx, r.Owner, r.Name, dep.GetID(), st); err != nil {
		a.log.Error("record GitHub deployment status", "repo", r.Full(), "env", env, "deployment", dep.GetID(), "err", err)
		return dep.GetID(), fmt.Errorf("GitHub deployment status for %s: %w", env, err)
	}
	return dep.GetID(), nil
}

// flipDescription: "auto-live: enrich→dep_1, deny→dep_2".
func flipDescription(action string, workflows map[string]string) string {
	ids := make([]string, 0, len(workflows))
	for w := range workflows {
		ids = append(ids, w)
	}
	sort.Strings(ids)
	parts := make([]string, 0, len(ids))
	for _, w := range ids {
		if workflows[w] == "" {
			parts = append(parts, w+" deactivated")
		} else {
			parts = append(parts, w+"→"+workflows[w])
		}
	}
	return action + ": " + strings.Join(parts, ", ")
}
