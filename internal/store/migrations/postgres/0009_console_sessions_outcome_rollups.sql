-- The error kind of a failed invocation's outcome row, in its own column,
-- so the console's kind filter walks an index instead of matching message
-- prefixes (a kind that matches nothing used to read every failed row).
ALTER TABLE runtime_logs ADD COLUMN error_kind TEXT NOT NULL DEFAULT '';
UPDATE runtime_logs SET error_kind = substring(message from '^invocation failed \(([a-z-]+)\)')
    WHERE status = 'failed' AND message LIKE 'invocation failed (%):%';
CREATE INDEX runtime_logs_outcome_kind ON runtime_logs(env, error_kind, at) WHERE error_kind <> '';

-- Per-minute counts of invocation outcomes, kept with every log insert:
-- the console's charts read these (a day is at most 1,440 minutes per
-- workflow, status and duration class) instead of counting outcome rows.
-- minute is the minute's start in microseconds since the epoch.
CREATE TABLE runtime_outcome_minutes (
    env         TEXT NOT NULL,
    minute      BIGINT NOT NULL,
    workflow_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    class       INTEGER NOT NULL,
    error_kind  TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (env, minute, workflow_id, status, class, error_kind)
);
CREATE INDEX runtime_outcome_minutes_minute ON runtime_outcome_minutes(minute);
INSERT INTO runtime_outcome_minutes (env, minute, workflow_id, status, class, error_kind, n)
    SELECT env, (at / 60000000) * 60000000, workflow_id, status,
        CASE WHEN duration_us <= 100 THEN 0 WHEN duration_us <= 200 THEN 1 WHEN duration_us <= 500 THEN 2 WHEN duration_us <= 1000 THEN 3 WHEN duration_us <= 2000 THEN 4 WHEN duration_us <= 5000 THEN 5 WHEN duration_us <= 10000 THEN 6 WHEN duration_us <= 20000 THEN 7 WHEN duration_us <= 50000 THEN 8 WHEN duration_us <= 100000 THEN 9 WHEN duration_us <= 200000 THEN 10 WHEN duration_us <= 500000 THEN 11 WHEN duration_us <= 1000000 THEN 12 WHEN duration_us <= 2000000 THEN 13 WHEN duration_us <= 5000000 THEN 14 WHEN duration_us <= 10000000 THEN 15 WHEN duration_us <= 30000000 THEN 16 ELSE 17 END,
        error_kind, COUNT(*)
    FROM runtime_logs WHERE status <> ''
    GROUP BY env, (at / 60000000) * 60000000, workflow_id, status,
        CASE WHEN duration_us <= 100 THEN 0 WHEN duration_us <= 200 THEN 1 WHEN duration_us <= 500 THEN 2 WHEN duration_us <= 1000 THEN 3 WHEN duration_us <= 2000 THEN 4 WHEN duration_us <= 5000 THEN 5 WHEN duration_us <= 10000 THEN 6 WHEN duration_us <= 20000 THEN 7 WHEN duration_us <= 50000 THEN 8 WHEN duration_us <= 100000 THEN 9 WHEN duration_us <= 200000 THEN 10 WHEN duration_us <= 500000 THEN 11 WHEN duration_us <= 1000000 THEN 12 WHEN duration_us <= 2000000 THEN 13 WHEN duration_us <= 5000000 THEN 14 WHEN duration_us <= 10000000 THEN 15 WHEN duration_us <= 30000000 THEN 16 ELSE 17 END, error_kind;

-- Console sessions: the cookie names a row, so signing out (or a removal
-- on GitHub, seen when the role is checked again) ends every copy of the
-- cookie at once. github_token is sealed under the console's session key.
CREATE TABLE console_sessions (
    id           TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL,
    admin        BOOLEAN NOT NULL DEFAULT FALSE,
    perms        TEXT NOT NULL DEFAULT '',
    github_token TEXT NOT NULL DEFAULT '',
    checked_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX console_sessions_expires ON console_sessions(expires_at);
