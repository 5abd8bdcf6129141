-- A sync is identified by (env, commit_sha, resync): running it again after
-- it finished does nothing. heartbeat_at is the lease of the process running
-- it: a running sync whose heartbeat stopped was killed with its process and
-- is taken over. reason says why it ended as it did (a typed state, never
-- matched as text); job is the request, so a takeover can run it again.
ALTER TABLE syncs ADD COLUMN resync TEXT NOT NULL DEFAULT '';
ALTER TABLE syncs ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE syncs ADD COLUMN heartbeat_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE syncs ADD COLUMN job TEXT NOT NULL DEFAULT '';
CREATE INDEX syncs_key ON syncs(env, commit_sha, resync);
CREATE INDEX syncs_status_heartbeat ON syncs(status, heartbeat_at);
CREATE INDEX live_history_env_at ON live_history(env, at);
