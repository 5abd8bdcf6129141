package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// MaxVariableBytes bounds one variable's value.
const MaxVariableBytes = 64 << 10

// VariableView is a variable as the management API shows it: a secret's
// value is never included.
type VariableView struct {
	Name      string    `json:"name"`
	Value     string    `json:"value,omitempty"` // "" for secrets
	IsSecret  bool      `json:"isSecret"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// EnvValue is a variable as a workflow invocation sees it (kinde.env).
type EnvValue = workflow.EnvVar

// unreadableSecret is the message an invocation that reads a secret no
// configured master key opens fails with.
func unreadableSecret(name string) string {
	return fmt.Sprintf("the secret variable %s cannot be decrypted with the master keys Flowgate holds (it was sealed under a key no longer in FLOWGATE_MASTER_KEY, or it is damaged): set the variable again, or add its key back to FLOWGATE_MASTER_KEY and run a re-seal", name)
}

// variableAAD binds a sealed value to its environment and name: a value
// copied to another row does not open.
func variableAAD(env, name string) []byte { return []byte("flowgate/var/" + env + "/" + name) }

func keyAAD(env, workflowID, id string) []byte {
	return []byte("flowgate/key/" + env + "/" + workflowID + "/" + id)
}

// PutVariable creates or replaces a variable; a secret one is sealed
// before it reaches the database.
func (s *Service) PutVariable(ctx context.Context, env, name, value string, secret bool) error {
	if err := validName("variable", name); err != nil {
		return err
	}
	if len(value) > MaxVariableBytes {
		return fmt.Errorf("variable %s: value is over %d bytes: %w", name, MaxVariableBytes, ErrInvalid)
	}
	if err := s.EnsureEnvironment(ctx, env); err != nil {
		return err
	}
	stored := []byte(value)
	if secret {
		sealed, err := s.cipher.Seal([]byte(value), variableAAD(env, name))
		if err != nil {
			return fmt.Errorf("deploy: seal variable %s: %w", name, err)
		}
		stored = sealed
	}
	return s.db.PutVariable(ctx, store.Variable{Env: env, Name: name, Value: stored, Secret: secret})
}

func view(v store.Variable) VariableView {
	out := VariableView{Name: v.Name, IsSecret: v.Secret, UpdatedAt: v.UpdatedAt}
	if !v.Secret {
		out.Value = string(v.Value)
	}
	return out
}

// Variable reads one variable (a secret without its value).
func (s *Service) Variable(ctx context.Context, env, name string) (VariableView, error) {
	v, err := s.db.Variable(ctx, env, name)
	if err != nil {
		return VariableView{}, err
	}
	return view(v), nil
}

// Variables lists an environment's variables (secrets without values).
func (s *Service) Variables(ctx context.Context, env string) ([]VariableView, error) {
	vs, err := s.db.Variables(ctx, env)
	if err != nil {
		return nil, err
	}
	out := make([]VariableView, len(vs))
	for i, v := range vs {
		out[i] = view(v)
	}
	return out, nil
}

// DeleteVariable removes a variable (ErrNotFound when absent).
func (s *Service) DeleteVariable(ctx context.Context, env, name string) error {
	return s.db.DeleteVariable(ctx, env, name)
}

// EnvForInvocation returns every variable of an environment with secrets
// opened, for kinde.env in one invocation. Never serve this over the API.
// A secret that does not open is returned as Unreadable, not as an error:
// it fails the invocations that read it, not every trigger of the
// environment.
func (s *Service) EnvForInvocation(ctx context.Context, env string) (map[string]EnvValue, error) {
	vs, err := s.db.Variables(ctx, env)
	if err != nil {
		return nil, err
	}
	out := make(map[string]EnvValue, len(vs))
	for _, v := range vs {
		val := v.Value
		if v.Secret {
			if val, err = s.cipher.Open(v.Value, variableAAD(env, v.Name)); err != nil {
				// Name the variable, never the bytes.
				s.log.Warn("secret variable does not open", "env", env, "name", v.Name, "err", err)
				out[v.Name] = EnvValue{IsSecret: true, Unreadable: unreadableSecret(v.Name)}
				continue
			}
		}
		out[v.Name] = EnvValue{Value: string(val), IsSecret: v.Secret}
	}
	return out, nil
}

// ---- encryption keys ----

// KeyInfo describes a workflow encryption key without the key.
type KeyInfo struct {
	ID        string    `json:"id"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreateEncryptionKey makes a new key for a workflow and returns it once,
// Base64-encoded; only its sealed form is stored. It becomes active when
// the workflow has no active key (so the first key is active).
func (s *Service) CreateEncryptionKey(ctx context.Context, env, workflowID string) (KeyInfo, string, error) {
	w, err := s.db.Workflow(ctx, env, workflowID)
	if err != nil {
		return KeyInfo{}, "", err
	}
	if w.Deleted {
		return KeyInfo{}, "", fmt.Errorf("workflow %s was deleted: %w", workflowID, ErrNotFound)
	}
	raw, b64, err := secrets.NewEncryptionKey()
	if err != nil {
		return KeyInfo{}, "", fmt.Errorf("deploy: new encryption key: %w", err)
	}
	k := store.EncryptionKey{ID: newID("key_"), Env: env, WorkflowID: workflowID, CreatedAt: s.now()}
	if k.Sealed, err = s.cipher.Seal(raw, keyAAD(env, workflowID, k.ID)); err != nil {
		return KeyInfo{}, "", fmt.Errorf("deploy: seal encryption key: %w", err)
	}
	err = s.db.InTx(ctx, func(q store.Q) error {
		keys, err := q.EncryptionKeys(ctx, env, workflowID)
		if err != nil {
			return err
		}
		k.Active = true
		for _, o := range keys {
			if o.Active {
				k.Active = false
			}
		}
		return q.InsertEncryptionKey(ctx, k)
	})
	if err != nil {
		return KeyInfo{}, "", fmt.Errorf("deploy: create encryption key: %w", err)
	}
	return KeyInfo{ID: k.ID, Active: k.Active, CreatedAt: k.CreatedAt}, b64, nil
}

// EncryptionKeys lists a workflow's keys, oldest first.
func (s *Service) EncryptionKeys(ctx context.Context, env, workflowID string) ([]KeyInfo, error) {
	if _, err := s.db.Workflow(ctx, env, workflowID); err != nil {
		return nil, err
	}
	keys, err := s.db.EncryptionKeys(ctx, env, workflowID)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = KeyInfo{ID: k.ID, Active: k.Active, CreatedAt: k.CreatedAt}
	}
	return out, nil
}

// ActivateEncryptionKey makes a key the active one (the other becomes inactive).
func (s *Service) ActivateEncryptionKey(ctx context.Context, env, workflowID, id string) error {
	return s.db.InTx(ctx, func(q store.Q) error {
		return q.SetKeyActive(ctx, env, workflowID, id, true)
	})
}

// DeactivateEncryptionKey makes a key inactive.
func (s *Service) DeactivateEncryptionKey(ctx context.Context, env, workflowID, id string) error {
	return s.db.SetKeyActive(ctx, env, workflowID, id, false)
}

// DeleteEncryptionKey deletes an inactive key; an active one is refused
// (ErrConflict) so a live workflow never loses its key by accident.
func (s *Service) DeleteEncryptionKey(ctx context.Context, env, workflowID, id string) error {
	return s.db.InTx(ctx, func(q store.Q) error {
		k, err := q.EncryptionKey(ctx, env, workflowID, id)
		if err != nil {
			return err
		}
		if k.Active {
			return fmt.Errorf("encryption key %s is active; activate another or deactivate it first: %w", id, ErrConflict)
		}
		_, err = q.DeleteInactiveKey(ctx, env, workflowID, id)
		return err
	})
}

// ActiveEncryptionKey returns a workflow's active key for an invocation
// (kinde.secureFetch), or nil when it has none. Never serve this over the API.
func (s *Service) ActiveEncryptionKey(ctx context.Context, env, workflowID string) ([]byte, error) {
	keys, err := s.db.EncryptionKeys(ctx, env, workflowID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.Active {
			raw, err := s.cipher.Open(k.Sealed, keyAAD(env, workflowID, k.ID))
			if err != nil {
				return nil, &UnreadableKeyError{KeyID: k.ID, err: err}
			}
			return raw, nil
		}
	}
	return nil, nil
}

// UnreadableKeyError is a workflow's active encryption key that no
// configured master key opens: kinde.secureFetch fails with Error(), the
// rest of the workflow runs.
type UnreadableKeyError struct {
	KeyID string
	err   error
}

func (e *UnreadableKeyError) Error() string {
	return fmt.Sprintf("the workflow's active encryption key %s cannot be decrypted with the master keys Flowgate holds (sealed under a key no longer in FLOWGATE_MASTER_KEY, or damaged): create and activate a new key, or add the old master key back and run a re-seal", e.KeyID)
}

func (e *UnreadableKeyError) Unwrap() error { return e.err }

// ---- preview ----

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
	// guesses made at the same time see each other (an attack review sent
	// 100 at once and every one was checked); a right password clears it.
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
