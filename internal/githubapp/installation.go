package githubapp

import (
	"context"

	"github.com/google/go-github/v88/github"

	"github.com/flowgate/flowgate/internal/store"
)

// onInstallation keeps installations and their repositories: created or
// new permissions connect the repositories listed; suspend sets every
// repository of the installation aside and unsuspend brings them back
// (GitHub's suspend and unsuspend events list no repositories); deleted
// disconnects them for good.
func (a *App) onInstallation(ctx context.Context, e *github.InstallationEvent) error {
	inst := e.GetInstallation()
	if inst.GetID() == 0 {
		return badPayload("installation event without an installation")
	}
	d := a.opts.Deploy
	log := a.log.With("installation_id", inst.GetID(), "action", e.GetAction())
	switch e.GetAction() {
	case "created", "unsuspend", "new_permissions_accepted":
		if err := d.PutInstallation(ctx, store.Installation{ID: inst.GetID(), Account: inst.GetAccount().GetLogin()}); err != nil {
			return err
		}
		if e.GetAction() == "unsuspend" {
			if err := d.SuspendGitHubRepos(ctx, inst.GetID(), false); err != nil {
				return err
			}
		}
		for _, r := range e.Repositories {
			if !validRepo(r.GetFullName()) {
				continue
			}
			if err := d.ConnectGitHubRepo(ctx, r.GetFullName(), inst.GetID()); err != nil {
				return err
			}
		}
		log.Info("installation connected", "repos", len(e.Repositories))
	case "deleted", "suspend":
		var err error
		if e.GetAction() == "suspend" {
			err = d.SuspendGitHubRepos(ctx, inst.GetID(), true)
		} else {
			err = d.DisconnectGitHubRepo(ctx, inst.GetID(), "")
		}
		if err != nil {
			return err
		}
		if err := d.PutInstallation(ctx, store.Installation{ID: inst.GetID(), Account: inst.GetAccount().GetLogin()}); err != nil {
			return err
		}
		if err := d.DeleteInstallation(ctx, inst.GetID()); err != nil {
			return err
		}
		a.opts.Clients.Forget(inst.GetID())
		log.Info("installation disconnected")
	}
	return nil
}

// onInstallationRepositories connects added and disconnects removed
// repositories.
func (a *App) onInstallationRepositories(ctx context.Context, e *github.InstallationRepositoriesEvent) error {
	inst := e.GetInstallation()
	if inst.GetID() == 0 {
		return badPayload("installation_repositories event without an installation")
	}
	d := a.opts.Deploy
	if err := d.PutInstallation(ctx, store.Installation{ID: inst.GetID(), Account: inst.GetAccount().GetLogin()}); err != nil {
		return err
	}
	for _, r := range e.RepositoriesAdded {
		if validRepo(r.GetFullName()) {
			if err := d.ConnectGitHubRepo(ctx, r.GetFullName(), inst.GetID()); err != nil {
				return err
			}
		}
	}
	for _, r := range e.RepositoriesRemoved {
		if validRepo(r.GetFullName()) {
			if err := d.DisconnectGitHubRepo(ctx, inst.GetID(), r.GetFullName()); err != nil {
				return err
			}
		}
	}
	a.log.Info("installation repositories changed", "installation_id", inst.GetID(),
		"added", len(e.RepositoriesAdded), "removed", len(e.RepositoriesRemoved))
	return nil
}
