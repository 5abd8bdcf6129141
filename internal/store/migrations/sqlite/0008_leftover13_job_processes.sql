-- job_processes: each process working jobs renews its row every few
-- seconds. A job "running" in a process whose row went stale was left by a
-- process that died, and is made available again at once instead of
-- waiting for River's rescuer. id is the River client id that claims jobs
-- (river_job.attempted_by); heartbeat_at is in microseconds.
CREATE TABLE job_processes (
	id TEXT PRIMARY KEY,
	heartbeat_at BIGINT NOT NULL
);
