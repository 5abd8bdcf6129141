package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/flowgate/flowgate/internal/workflow"
)

// ErrUnauthorized: the runtime token is missing or is not the
// environment's.
var ErrUnauthorized = errors.New("deploy: runtime token missing or wrong")

// outsideReadTimeout bounds what the trigger path may still read outside
// memory — a bundle not cached yet, a preview's password check and key —
// so a black-holed database or object store never holds a call for long.
const outsideReadTimeout = 5 * time.Second

// codeCacheBytes bounds the bundles and source maps kept in memory.
const codeCacheBytes = 64 << 20

// Invocation is what one trigger call runs: the deployment live for the
// trigger (or the previewed one) with its settings and code, the
// environment's variables and the workflow's active key. Live
// invocations are prepared once per snapshot and shared by every call:
// read only.
type Invocation struct {
	Env, Trigger string
	// Deployment is the deployment that runs; nil when nothing is live for
	// the trigger (the call is answered "skipped").
	Deployment *LiveDeployment
	Preview    bool

	Settings        workflow.Settings
	Code, SourceMap []byte
	Vars            map[string]workflow.EnvVar
	// Key is the workflow's active encryption key (nil: none); KeyError
	// is why it does not open — only kinde.secureFetch fails then.
	Key      []byte
	KeyError string
	// Recording is how calls of this workflow are recorded (nil: not at
	// all; previews never are).
	Recording *RecordingState
}

// Preview names a deployment to run in place of the live one, with its
// preview password.
type Preview struct {
	DeploymentID, Password string
}

// TriggerMismatchError: the previewed deployment runs on another trigger.
type TriggerMismatchError struct {
	DeploymentID, Has, Called string
}

func (e *TriggerMismatchError) Error() string {
	return fmt.Sprintf("deployment %s runs on %s, not %s", e.DeploymentID, e.Has, e.Called)
}

// Resolve prepares a trigger call of env: the runtime token is checked
// against the environment's in-memory snapshot, then the live deployment
// for trigger (or, with preview, that deployment after its password) is
// returned with its code, the variables and the key. The live path reads
// nothing outside memory once the snapshot and the bundle are cached.
// Errors: ErrUnavailable (no usable state), ErrUnauthorized, the preview
// check's (ErrNotFound, ErrBadPassword, ErrRateLimited,
// *TriggerMismatchError), context errors.
func (s *Service) Resolve(ctx context.Context, env, trigger, token string, preview *Preview) (*Invocation, error) {
	snap, err := s.Snapshot(ctx, env)
	if err != nil {
		return nil, err
	}
	if !snap.CheckToken(token) {
		return nil, ErrUnauthorized
	}
	if preview != nil {
		return s.resolvePreview(ctx, snap, trigger, preview)
	}
	return s.resolveLive(ctx, snap, trigger)
}

// ResolveLive is Resolve for a caller that has already checked the
// runtime token (the auth-server adapters).
func (s *Service) ResolveLive(ctx context.Context, env, trigger string) (*Invocation, error) {
	snap, err := s.Snapshot(ctx, env)
	if err != nil {
		return nil, err
	}
	return s.resolveLive(ctx, snap, trigger)
}

// CheckToken reports whether token is env's runtime token.
func (s *Service) CheckToken(ctx context.Context, env, token string) (bool, error) {
	snap, err := s.Snapshot(ctx, env)
	if err != nil {
		return false, err
	}
	return snap.CheckToken(token), nil
}

func (s *Service) resolveLive(ctx context.Context, snap *Snapshot, trigger string) (*Invocation, error) {
	if v, ok := snap.prepared.Load(trigger); ok {
		return v.(*Invocation), nil
	}
	inv := &Invocation{Env: snap.Env, Trigger: trigger, Vars: snap.vars}
	live := snap.Live(trigger)
	if live == nil {
		return inv, nil // skipped; not kept, so made-up trigger names cost no memory
	}
	if err := s.load(ctx, inv, live); err != nil {
		return nil, err
	}
	inv.Key, inv.KeyError = snap.Key(live.WorkflowID), snap.KeyError(live.WorkflowID)
	if st := snap.Recording(); st != nil && st.Settings.Records(live.WorkflowID) {
		inv.Recording = st
	}
	v, _ := snap.prepared.LoadOrStore(trigger, inv) // one per live trigger: bounded
	return v.(*Invocation), nil
}

func (s *Service) resolvePreview(ctx context.Context, snap *Snapshot, trigger string, p *Preview) (*Invocation, error) {
	ctx, cancel := context.WithTimeout(ctx, outsideReadTimeout)
	defer cancel()
	live, err := s.previewChecked(ctx, snap.Env, p)
	if err != nil {
		return nil, err
	}
	if live.Trigger != trigger {
		return nil, &TriggerMismatchError{DeploymentID: p.DeploymentID, Has: live.Trigger, Called: trigger}
	}
	inv := &Invocation{Env: snap.Env, Trigger: trigger, Preview: true, Vars: snap.vars}
	if err := s.load(ctx, inv, live); err != nil {
		return nil, err
	}
	// A previewed workflow may have nothing live: its key is read here.
	inv.Key, err = s.ActiveEncryptionKey(ctx, snap.Env, live.WorkflowID)
	var unreadable *UnreadableKeyError
	if errors.As(err, &unreadable) {
		inv.KeyError, err = unreadable.Error(), nil
	}
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// previewChecked checks a preview password. The check is a deliberately
// slow, memory-hard hash: at most two run at once, so a burst of guesses
// can neither exhaust memory nor slip past the failure count together.
func (s *Service) previewChecked(ctx context.Context, env string, p *Preview) (*LiveDeployment, error) {
	select {
	case s.previewSlots <- struct{}{}:
		defer func() { <-s.previewSlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Preview(ctx, env, p.DeploymentID, p.Password)
}

// load fills inv with a deployment's settings and code.
func (s *Service) load(ctx context.Context, inv *Invocation, live *LiveDeployment) error {
	inv.Deployment = live
	if err := json.Unmarshal(live.Settings, &inv.Settings); err != nil {
		return fmt.Errorf("deployment %s settings: %w", live.DeploymentID, err)
	}
	var err error
	if inv.Code, err = s.cachedArtifact(ctx, live.BundleDigest); err != nil {
		return err
	}
	if live.SourceMapDigest != "" {
		if inv.SourceMap, err = s.cachedArtifact(ctx, live.SourceMapDigest); err != nil {
			return err
		}
	}
	return nil
}

// cachedArtifact reads an artifact through the code cache (artifacts are
// immutable: the digest is the key).
func (s *Service) cachedArtifact(ctx context.Context, digest string) ([]byte, error) {
	if b, ok := s.code.get(digest); ok {
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, outsideReadTimeout)
	defer cancel()
	b, err := s.Artifact(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", digest, err)
	}
	s.code.put(digest, b)
	return b, nil
}

// codeCache keeps the most recently used artifacts, bounded by bytes.
type codeCache struct {
	mu   sync.Mutex
	lru  *simplelru.LRU[string, []byte]
	size int
	max  int
}

func newCodeCache(max int) *codeCache {
	c := &codeCache{max: max}
	// The count is not the bound (bytes are): size it past any real use.
	c.lru, _ = simplelru.NewLRU[string, []byte](1<<20, func(_ string, b []byte) { c.size -= len(b) })
	return c
}

func (c *codeCache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(k)
}

func (c *codeCache) put(k string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(b) > c.max || c.lru.Contains(k) {
		return
	}
	c.lru.Add(k, b)
	c.size += len(b)
	for c.size > c.max {
		c.lru.RemoveOldest()
	}
}
