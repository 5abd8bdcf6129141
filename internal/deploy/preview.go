package deploy

import (
	"context"
	"fmt"

	"github.com/flowgate/flowgate/internal/secrets"
)

// NewPreviewPassword sets a fresh preview password for a deployment and
// returns it; only its hash is stored, so each call replaces the previous
// password (what the "preview" page shows is the latest one).
func (s *Service) NewPreviewPassword(ctx context.Context, env, deploymentID string) (string, error) {
	d, err := s.Deployment(ctx, env, deploymentID)
	if err != nil {
		return "", err
	}
	if err := s.previewable(ctx, d); err != nil {
		return "", err
	}
	pw, err := secrets.GenerateToken()
	if err != nil {
		return "", fmt.Errorf("deploy: preview password: %w", err)
	}
	hash, err := secrets.HashPreviewPassword(pw)
	if err != nil {
		return "", fmt.Errorf("deploy: preview password: %w", err)
	}
	if err := s.db.SetPreviewPasswordHash(ctx, deploymentID, hash); err != nil {
		return "", err
	}
	return pw, nil
}

// Preview returns a deployment to run in place of the live one when the
// caller knows its preview password. Failed checks are counted in the
// database; past PreviewMaxFailures within PreviewWindow every attempt is
// refused with ErrRateLimited until the window ends. The comparison is
// constant-time (secrets.CheckPreviewPassword).
func (s *Service) Preview(ctx context.Context, env, deploymentID, password string) (*LiveDeployment, error) {
	d, err := s.Deployment(ctx, env, deploymentID)
	if err != nil {
		return nil, err
	}
	if err := s.previewable(ctx, d); err != nil {
		return nil, err
	}
	// The attempt is counted before the slow hash check, atomically, so
	// guesses made at the same time see each other (100 sent at once must
	// not all be checked); a right password clears it.
	attempts, err := s.db.ReservePreviewAttempt(ctx, deploymentID, s.now(), s.previewWin)
	if err != nil {
		return nil, err
	}
	if attempts > s.previewMax {
		return nil, fmt.Errorf("deploy: preview of %s: %w", deploymentID, ErrRateLimited)
	}
	g, err := s.db.PreviewGuard(ctx, deploymentID)
	if err != nil {
		return nil, err
	}
	if g.Hash == "" || password == "" || !secrets.CheckPreviewPassword(g.Hash, password) {
		return nil, fmt.Errorf("deploy: preview of %s: %w", deploymentID, ErrBadPassword)
	}
	if err := s.db.ResetPreviewFailures(ctx, deploymentID); err != nil {
		return nil, err
	}
	trigger, err := triggerOf(d)
	if err != nil {
		return nil, err
	}
	if err := s.verifyArtifacts(ctx, d); err != nil {
		return nil, err
	}
	return &LiveDeployment{Env: env, Trigger: trigger, WorkflowID: d.WorkflowID, DeploymentID: d.ID,
		BundleDigest: d.BundleDigest, SourceMapDigest: d.SourceMapDigest, Settings: d.Settings}, nil
}

// Artifact reads a stored bundle or source map by digest (for the runtime).
func (s *Service) Artifact(ctx context.Context, digest string) ([]byte, error) {
	b, err := s.artifacts.Get(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("deploy: artifact %s: %w", digest, err)
	}
	return b, nil
}

// previewable refuses a preview of a deployment that cannot run, or whose
// workflow was deleted (a deleted workflow must not run by any path).
func (s *Service) previewable(ctx context.Context, d Deployment) error {
	if err := runnable(d); err != nil {
		return err
	}
	w, err := s.db.Workflow(ctx, d.Env, d.WorkflowID)
	if err != nil {
		return err
	}
	if w.Deleted {
		return fmt.Errorf("deploy: workflow %s was deleted: %w", d.WorkflowID, ErrNotFound)
	}
	return nil
}
