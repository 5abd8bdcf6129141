package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
)

// KeyInfo describes a workflow encryption key without the key.
type KeyInfo struct {
	ID        string
	Active    bool
	CreatedAt time.Time
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
