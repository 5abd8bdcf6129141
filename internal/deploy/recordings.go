package deploy

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flowgate/flowgate/internal/recording"
	"github.com/flowgate/flowgate/internal/replay"
	"github.com/flowgate/flowgate/internal/store"
)

// recordingBatch is how many recordings one delete or read statement
// handles (retention, delete-all, export pages): short transactions.
const recordingBatch = 500

// MaxExport bounds one export: every workflow's cap is at most
// recording.MaxPerWorkflowLimit, and an export names one workflow or all.
const MaxExport = 100_000

func recordingAAD(env, id string) []byte { return []byte("flowgate/recording/" + env + "/" + id) }
func recordingKeyAAD(env string) []byte  { return []byte("flowgate/recording-key/" + env) }

// RecordingState is what the trigger path needs to record an
// environment's calls: the settings and the opened hashing key.
type RecordingState struct {
	Settings recording.Settings
	Key      []byte
}

// RecordingSettings returns env's settings (off, with defaults, when never
// set).
func (s *Service) RecordingSettings(ctx context.Context, env string) (recording.Settings, error) {
	r, err := s.db.RecordingSettings(ctx, env)
	if errors.Is(err, ErrNotFound) {
		return recording.Settings{}.Defaults(), nil
	}
	if err != nil {
		return recording.Settings{}, err
	}
	return recording.Parse(r.Settings)
}

// PutRecordingSettings validates and stores env's settings. The first
// time, the environment's hashing key is made and sealed; it is kept
// afterwards, so hashes stay comparable across recordings.
func (s *Service) PutRecordingSettings(ctx context.Context, env string, st recording.Settings) (recording.Settings, error) {
	st = st.Defaults()
	if err := st.Validate(); err != nil {
		return st, fmt.Errorf("%s: %w", err.Error(), ErrInvalid)
	}
	if err := s.EnsureEnvironment(ctx, env); err != nil {
		return st, err
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return st, err
	}
	sealed, err := s.cipher.Seal(key[:], recordingKeyAAD(env))
	if err != nil {
		return st, fmt.Errorf("deploy: seal recording key: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return st, err
	}
	if err := s.db.PutRecordingSettings(ctx, store.RecordingSettings{Env: env, Settings: b, PIIKey: sealed}); err != nil {
		return st, err
	}
	s.InvalidateSnapshot(env) // this replica records (or stops) at once; others within LiveCheckInterval
	return st, nil
}

// recordingState reads env's recording state for its snapshot: nil when
// recording is off or its state does not open (then nothing is recorded,
// and the trigger path is unaffected).
func (s *Service) recordingState(ctx context.Context, env string) (*RecordingState, error) {
	r, err := s.db.RecordingSettings(ctx, env)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := recording.Parse(r.Settings)
	if err != nil || !st.Enabled {
		return nil, nil
	}
	key, err := s.cipher.Open(r.PIIKey, recordingKeyAAD(env))
	if err != nil {
		s.log.Warn("recording key does not open: recording is off until its settings are saved again", "env", env, "err", err)
		return nil, nil
	}
	return &RecordingState{Settings: st, Key: key}, nil
}

// AddRecording seals a redacted recording and stores it, dropping the
// workflow's oldest past keep. It returns how many were dropped.
func (s *Service) AddRecording(ctx context.Context, env string, rec replay.Recorded, keep int) (int64, error) {
	if rec.ID == "" {
		rec.ID = newID("rec_")
	}
	if rec.At.IsZero() {
		rec.At = s.now()
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	sealed, err := s.cipher.Seal(b, recordingAAD(env, rec.ID))
	if err != nil {
		return 0, fmt.Errorf("deploy: seal recording: %w", err)
	}
	var n int64
	err = s.db.InTx(ctx, func(q store.Q) error {
		n, err = q.AddRecording(ctx, store.Recording{ID: rec.ID, Env: env, WorkflowID: rec.WorkflowID, Trigger: rec.Trigger,
			At: rec.At, Sealed: sealed}, keep)
		return err
	})
	return n, err
}

// Recordings returns up to limit of a workflow's recordings in env (every
// workflow's when workflowID is ""), opened, newest first. A recording that
// does not open (sealed under a master key no longer configured) is left
// out and logged.
func (s *Service) Recordings(ctx context.Context, env, workflowID string, limit int) ([]replay.Recorded, error) {
	if limit <= 0 {
		limit = recording.DefaultMaxPerWorkflow
	}
	out := []replay.Recorded{}
	err := s.eachRecording(ctx, env, workflowID, limit, func(r replay.Recorded) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// ExportRecordings calls fn with each of env's recordings (one workflow's
// when workflowID is set), newest first, at most MaxExport, reading them
// in pages so memory stays bounded whatever is stored.
func (s *Service) ExportRecordings(ctx context.Context, env, workflowID string, fn func(replay.Recorded) error) error {
	return s.eachRecording(ctx, env, workflowID, MaxExport, fn)
}

func (s *Service) eachRecording(ctx context.Context, env, workflowID string, limit int, fn func(replay.Recorded) error) error {
	var before int64
	for limit > 0 {
		page := min(limit, recordingBatch)
		rows, err := s.db.Recordings(ctx, env, workflowID, before, page)
		if err != nil {
			return err
		}
		for _, r := range rows {
			before = r.Seq
			b, err := s.cipher.Open(r.Sealed, recordingAAD(env, r.ID))
			var rec replay.Recorded
			if err == nil {
				err = json.Unmarshal(b, &rec)
			}
			if err != nil {
				s.log.Warn("recording does not open: left out", "env", env, "recording", r.ID, "err", err)
				continue
			}
			limit--
			if err := fn(rec); err != nil {
				return err
			}
			if limit == 0 {
				break
			}
		}
		if len(rows) < page {
			break
		}
	}
	return nil
}

// RecordingCounts returns how many recordings each workflow of env has.
func (s *Service) RecordingCounts(ctx context.Context, env string) (map[string]int64, error) {
	return s.db.RecordingCounts(ctx, env)
}

// DeleteRecordings deletes every recording of env, in small batches, and
// returns how many went.
func (s *Service) DeleteRecordings(ctx context.Context, env string) (int64, error) {
	return s.deleteRecordings(ctx, env, time.Time{})
}

func (s *Service) deleteRecordings(ctx context.Context, env string, before time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.db.DeleteRecordings(ctx, env, before, recordingBatch)
		total += n
		if err != nil || n < recordingBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// PruneRecordings deletes every environment's recordings older than its
// retention (the default one where the settings are gone), in small
// batches, and returns how many went.
func (s *Service) PruneRecordings(ctx context.Context) (int64, error) {
	all, err := s.db.AllRecordingSettings(ctx)
	if err != nil {
		return 0, err
	}
	envs, err := s.db.RecordingEnvs(ctx)
	if err != nil {
		return 0, err
	}
	days := map[string]int{}
	for _, r := range all {
		st, err := recording.Parse(r.Settings)
		if err != nil {
			st = recording.Settings{}.Defaults()
		}
		days[r.Env] = st.RetentionDays
	}
	var total int64
	for _, env := range envs {
		d, ok := days[env]
		if !ok {
			d = recording.DefaultRetentionDays
		}
		n, err := s.deleteRecordings(ctx, env, s.now().Add(-time.Duration(d)*24*time.Hour))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
