package store

import (
	"context"
	"fmt"
	"time"
)

// BeatJobProcess renews the lease of a process working jobs.
func (q Q) BeatJobProcess(ctx context.Context, id string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO job_processes (id, heartbeat_at) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, id, micros(at))
	if err != nil {
		return fmt.Errorf("store: heartbeat of job process %s: %w", id, err)
	}
	return nil
}

// ForgetJobProcess removes a process that stopped cleanly.
func (q Q) ForgetJobProcess(ctx context.Context, id string) error {
	if _, err := q.exec(ctx, `DELETE FROM job_processes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: forget job process %s: %w", id, err)
	}
	return nil
}

// JobProcessAlive reports whether the process renewed its lease at or after cutoff.
func (q Q) JobProcessAlive(ctx context.Context, id string, cutoff time.Time) (bool, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM job_processes WHERE id = ? AND heartbeat_at >= ?`, id, micros(cutoff)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: job process %s: %w", id, err)
	}
	return n > 0, nil
}

// ReleaseRunningJob makes a River job left "running" by a dead process
// available again, as River's rescuer would, but only while it is still
// that attempt (so two replicas releasing it together release it once).
func (q Q) ReleaseRunningJob(ctx context.Context, id int64, attempt int) (bool, error) {
	res, err := q.exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = attempted_at
		WHERE id = ? AND attempt = ? AND state = 'running'`, id, attempt)
	if err != nil {
		return false, fmt.Errorf("store: release job %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
