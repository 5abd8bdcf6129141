package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/store"
)

// flipTx moves a workflow's live pointer from `from` ("" when nothing is
// live) to dep inside the caller's transaction, which must already have
// bumped the environment's live version. The old deployment becomes
// Deployed; the unique indexes refuse two Live deployments of one workflow
// and two live workflows on one trigger even if this code were wrong.
func (s *Service) flipTx(ctx context.Context, q store.Q, dep store.Deployment, trigger, from, action string, by Actor) error {
	owner, err := q.LiveWorkflowForTrigger(ctx, dep.Env, trigger)
	if err != nil {
		return err
	}
	if owner != "" && owner != dep.WorkflowID {
		return fmt.Errorf("trigger %s is live for workflow %q; deactivate or delete it first: %w", trigger, owner, ErrConflict)
	}
	if from != "" && from != dep.ID {
		if err := q.SetDeploymentStatus(ctx, from, store.Deployed); err != nil {
			return err
		}
	}
	if err := q.SetDeploymentStatus(ctx, dep.ID, store.Live); err != nil {
		return err
	}
	if err := q.SetLive(ctx, dep.Env, dep.WorkflowID, trigger, dep.ID); err != nil {
		return err
	}
	if from == dep.ID {
		return nil // already live: nothing moved, nothing to record
	}
	return q.AppendFlip(ctx, store.Flip{Env: dep.Env, WorkflowID: dep.WorkflowID, FromDeployment: from,
		ToDeployment: dep.ID, Action: action, Actor: by.Name, Reason: by.Reason, At: s.now()})
}

// triggerOf reads the trigger a deployment was built for.
func triggerOf(d store.Deployment) (string, error) {
	var st struct {
		Trigger string `json:"trigger"`
	}
	if err := json.Unmarshal(d.Settings, &st); err != nil || st.Trigger == "" {
		return "", fmt.Errorf("deployment %s has no readable trigger in its settings", d.ID)
	}
	return st.Trigger, nil
}

// deploymentIn reads a deployment and checks it belongs to env/workflow.
func (s *Service) deploymentIn(ctx context.Context, q store.Q, env, workflowID, id string) (store.Deployment, error) {
	d, err := q.Deployment(ctx, id)
	if err != nil {
		return d, err
	}
	if d.Env != env || workflowID != "" && d.WorkflowID != workflowID {
		return d, fmt.Errorf("deployment %s of %s/%s: %w", id, env, workflowID, ErrNotFound)
	}
	return d, nil
}

func runnable(d store.Deployment) error {
	switch d.Status {
	case store.Failed:
		return fmt.Errorf("deployment %s failed to build and cannot run: %w", d.ID, ErrConflict)
	case store.Processing:
		return fmt.Errorf("deployment %s is still processing: %w", d.ID, ErrConflict)
	}
	return nil
}

// MakeLive makes a deployment (Draft, Deployed, Deactivated, or an older
// one) the live one of its workflow, atomically.
func (s *Service) MakeLive(ctx context.Context, env, workflowID, deploymentID string, by Actor) (Deployment, error) {
	return s.makeLive(ctx, env, workflowID, deploymentID, store.ActionMakeLive, by)
}

func (s *Service) makeLive(ctx context.Context, env, workflowID, deploymentID, action string, by Actor) (Deployment, error) {
	d, err := s.deploymentIn(ctx, s.db.Q, env, workflowID, deploymentID)
	if err != nil {
		return d, err
	}
	if err := runnable(d); err != nil {
		return d, err
	}
	trigger, err := triggerOf(d)
	if err != nil {
		return d, err
	}
	// Artifacts are immutable once stored, so checking before the
	// transaction is enough: nothing deletes a referenced blob.
	if err := s.verifyArtifacts(ctx, d); err != nil {
		return d, err
	}
	err = s.db.InTx(ctx, func(q store.Q) error {
		if err := q.BumpLiveVersion(ctx, env); err != nil {
			return err
		}
		wf, err := q.Workflow(ctx, env, workflowID)
		if err != nil {
			return err
		}
		if wf.Deleted {
			return fmt.Errorf("workflow %s was deleted; sync its files again to bring it back: %w", workflowID, ErrConflict)
		}
		// Re-read inside the transaction: another replica may have moved it.
		if d, err = q.Deployment(ctx, deploymentID); err != nil {
			return err
		}
		if err := runnable(d); err != nil {
			return err
		}
		from, err := q.LivePointer(ctx, env, workflowID)
		if err != nil {
			return err
		}
		if err := s.step("flip"); err != nil {
			return err
		}
		return s.flipTx(ctx, q, d, trigger, from, action, by)
	})
	if err != nil {
		return d, fmt.Errorf("deploy: make %s live for %s/%s: %w", deploymentID, env, workflowID, err)
	}
	s.invalidate(env)
	d.Status = store.Live
	return d, nil
}

// Rollback makes live the most recent deployment that was live before the
// current one and is older than it. Repeated rollbacks step further back.
func (s *Service) Rollback(ctx context.Context, env, workflowID string, by Actor) (Deployment, error) {
	cur, err := s.db.LivePointer(ctx, env, workflowID)
	if err != nil {
		return Deployment{}, err
	}
	if cur == "" {
		return Deployment{}, fmt.Errorf("deploy: %s/%s has nothing live to roll back from; make a deployment live instead: %w",
			env, workflowID, ErrConflict)
	}
	curDep, err := s.db.Deployment(ctx, cur)
	if err != nil {
		return Deployment{}, err
	}
	flips, err := s.db.Flips(ctx, env, workflowID, 1000)
	if err != nil {
		return Deployment{}, err
	}
	seen := map[string]bool{cur: true}
	for _, f := range flips {
		if f.ToDeployment == "" || seen[f.ToDeployment] {
			continue
		}
		seen[f.ToDeployment] = true
		d, err := s.db.Deployment(ctx, f.ToDeployment)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Deployment{}, err
		}
		older := d.CreatedAt.Before(curDep.CreatedAt) || d.CreatedAt.Equal(curDep.CreatedAt) && d.ID < curDep.ID
		if older && runnable(d) == nil {
			return s.makeLive(ctx, env, workflowID, d.ID, store.ActionRollback, by)
		}
	}
	return Deployment{}, fmt.Errorf("deploy: %s/%s has no earlier live deployment to roll back to: %w", env, workflowID, ErrConflict)
}

// Deactivate stops a workflow from running: its live deployment becomes
// Deactivated and the trigger is skipped until a deployment is made live.
func (s *Service) Deactivate(ctx context.Context, env, workflowID string, by Actor) error {
	err := s.db.InTx(ctx, func(q store.Q) error {
		if err := q.BumpLiveVersion(ctx, env); err != nil {
			return err
		}
		if _, err := q.Workflow(ctx, env, workflowID); err != nil {
			return err
		}
		cur, err := q.LivePointer(ctx, env, workflowID)
		if err != nil {
			return err
		}
		if cur == "" {
			return fmt.Errorf("nothing is live: %w", ErrConflict)
		}
		return s.unliveTx(ctx, q, env, workflowID, cur, store.ActionDeactivate, by)
	})
	if err != nil {
		return fmt.Errorf("deploy: deactivate %s/%s: %w", env, workflowID, err)
	}
	s.invalidate(env)
	return nil
}

func (s *Service) unliveTx(ctx context.Context, q store.Q, env, workflowID, cur, action string, by Actor) error {
	if err := q.SetDeploymentStatus(ctx, cur, store.Deactivated); err != nil {
		return err
	}
	if err := q.ClearLive(ctx, env, workflowID); err != nil {
		return err
	}
	return q.AppendFlip(ctx, store.Flip{Env: env, WorkflowID: workflowID, FromDeployment: cur, Action: action,
		Actor: by.Name, Reason: by.Reason, At: s.now()})
}

// DeleteWorkflow deletes a workflow: it stops running and leaves the
// lists. Its history is kept, and it reappears if a sync brings its file
// back. (Removing the file from the repository alone never deletes it.)
func (s *Service) DeleteWorkflow(ctx context.Context, env, workflowID string, by Actor) error {
	err := s.db.InTx(ctx, func(q store.Q) error {
		if err := q.BumpLiveVersion(ctx, env); err != nil {
			return err
		}
		wf, err := q.Workflow(ctx, env, workflowID)
		if err != nil {
			return err
		}
		if wf.Deleted {
			return fmt.Errorf("workflow already deleted: %w", ErrNotFound)
		}
		cur, err := q.LivePointer(ctx, env, workflowID)
		if err != nil {
			return err
		}
		if cur != "" {
			if err := s.unliveTx(ctx, q, env, workflowID, cur, store.ActionDelete, by); err != nil {
				return err
			}
		}
		return q.MarkWorkflowDeleted(ctx, env, workflowID)
	})
	if err != nil {
		return fmt.Errorf("deploy: delete %s/%s: %w", env, workflowID, err)
	}
	s.invalidate(env)
	return nil
}

// ---- queries ----

// WorkflowSummary is a workflow with what is live and what is newest.
type WorkflowSummary struct {
	Workflow
	LiveDeploymentID   string // "" when nothing is live
	LatestDeploymentID string
	LatestStatus       Status
}

// Workflows lists an environment's workflows (deleted ones left out).
func (s *Service) Workflows(ctx context.Context, env string) ([]WorkflowSummary, error) {
	wfs, err := s.db.Workflows(ctx, env, false)
	if err != nil {
		return nil, err
	}
	out := make([]WorkflowSummary, 0, len(wfs))
	for _, w := range wfs {
		sum, err := s.summary(ctx, w)
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// Workflow reads one workflow; ErrNotFound for unknown or deleted ones.
func (s *Service) Workflow(ctx context.Context, env, id string) (WorkflowSummary, error) {
	w, err := s.db.Workflow(ctx, env, id)
	if err != nil {
		return WorkflowSummary{}, err
	}
	if w.Deleted {
		return WorkflowSummary{}, fmt.Errorf("workflow %s/%s was deleted: %w", env, id, ErrNotFound)
	}
	return s.summary(ctx, w)
}

func (s *Service) summary(ctx context.Context, w store.Workflow) (WorkflowSummary, error) {
	sum := WorkflowSummary{Workflow: w}
	live, err := s.db.LivePointer(ctx, w.Env, w.ID)
	if err != nil {
		return sum, err
	}
	sum.LiveDeploymentID = live
	latest, err := s.db.Deployments(ctx, w.Env, w.ID, 1)
	if err != nil {
		return sum, err
	}
	if len(latest) > 0 {
		sum.LatestDeploymentID, sum.LatestStatus = latest[0].ID, latest[0].Status
	}
	return sum, nil
}

// Deployments lists a workflow's deployments, newest first (limit ≤ 1000).
func (s *Service) Deployments(ctx context.Context, env, workflowID string, limit int) ([]Deployment, error) {
	if _, err := s.db.Workflow(ctx, env, workflowID); err != nil {
		return nil, err
	}
	return s.db.Deployments(ctx, env, workflowID, limit)
}

// Deployment reads one deployment of an environment.
func (s *Service) Deployment(ctx context.Context, env, id string) (Deployment, error) {
	return s.deploymentIn(ctx, s.db.Q, env, "", id)
}

// Syncs lists an environment's syncs, newest first, with their logs.
func (s *Service) Syncs(ctx context.Context, env string, limit int) ([]SyncRecord, error) {
	return s.db.Syncs(ctx, env, limit)
}

// SyncByID reads one sync of an environment.
func (s *Service) SyncByID(ctx context.Context, env, id string) (SyncRecord, error) {
	y, err := s.db.Sync(ctx, id)
	if err == nil && y.Env != env {
		err = fmt.Errorf("sync %s: %w", id, ErrNotFound)
	}
	return y, err
}

// Flips lists a workflow's live-pointer history (who, why, when), newest first.
func (s *Service) Flips(ctx context.Context, env, workflowID string, limit int) ([]Flip, error) {
	return s.db.Flips(ctx, env, workflowID, limit)
}

// ---- the runtime API's view ----

// envCache is one environment's live deployments by trigger.
type envCache struct {
	snap    atomic.Pointer[liveSnapshot] // nil: must be (re)loaded before use
	refresh sync.Mutex                   // one refresher at a time
	gen     atomic.Int64                 // bumped by invalidate
}

// liveSnapshot is an immutable view of an environment's live pointers.
type liveSnapshot struct {
	version   int64
	checkedAt time.Time
	byTrigger map[string]LiveDeployment
}

func (sn *liveSnapshot) lookup(trigger string) *LiveDeployment {
	l, ok := sn.byTrigger[trigger]
	if !ok {
		return nil
	}
	return &l
}

// LiveFor returns the deployment live for a trigger, or nil when none is
// (the runtime API answers "skipped"). It serves from memory and reads the
// environment's version row at most every LiveCheckInterval, reloading
// when any replica moved a pointer — so a flip anywhere is served
// everywhere within that interval (plus one query). While one request
// checks, the others keep being served from the snapshot, so the hot path
// never waits on the database; a flip made through this replica is seen by
// the next call.
func (s *Service) LiveFor(ctx context.Context, env, trigger string) (*LiveDeployment, error) {
	var c *envCache
	if v, ok := s.cache.Load(env); ok {
		c = v.(*envCache)
	} else {
		v, _ := s.cache.LoadOrStore(env, &envCache{})
		c = v.(*envCache)
	}

	sn := c.snap.Load()
	if sn != nil && s.now().Sub(sn.checkedAt) < s.liveInterval {
		return sn.lookup(trigger), nil
	}
	if sn != nil {
		if !c.refresh.TryLock() {
			return sn.lookup(trigger), nil // another request is checking
		}
	} else {
		c.refresh.Lock()
	}
	defer c.refresh.Unlock()
	if cur := c.snap.Load(); cur != nil && s.now().Sub(cur.checkedAt) < s.liveInterval {
		return cur.lookup(trigger), nil // checked while we waited
	}
	now := s.now()
	gen := c.gen.Load()
	v, err := s.db.LiveVersion(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("deploy: live version of %s: %w", env, err)
	}
	if v == 0 {
		// No pointer ever moved here (or no such environment): nothing
		// is live, and nothing is cached, so made-up names cost no memory.
		s.cache.CompareAndDelete(env, c)
		return nil, nil
	}
	if c.gen.Load() != gen {
		// A local flip landed while we read: keep what we read, but
		// check again on the next call.
		now = time.Time{}
	}
	if old := c.snap.Load(); old != nil && old.version == v {
		c.snap.Store(&liveSnapshot{version: v, checkedAt: now, byTrigger: old.byTrigger})
		return old.lookup(trigger), nil
	}
	lds, err := s.db.LiveDeployments(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("deploy: live deployments of %s: %w", env, err)
	}
	m := make(map[string]LiveDeployment, len(lds))
	for _, l := range lds {
		m[l.Trigger] = l
	}
	// The version was read before the rows: a flip in between only makes
	// the next check reload again.
	next := &liveSnapshot{version: v, checkedAt: now, byTrigger: m}
	c.snap.Store(next)
	return next.lookup(trigger), nil
}

// invalidate makes the next LiveFor on this replica re-read at once.
func (s *Service) invalidate(env string) {
	s.InvalidateSnapshot(env)
	if v, ok := s.cache.Load(env); ok {
		c := v.(*envCache)
		c.gen.Add(1)
		c.snap.Store(nil)
	}
}
