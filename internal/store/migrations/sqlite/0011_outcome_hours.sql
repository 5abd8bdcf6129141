-- Per-hour counts of invocation outcomes beside the per-minute ones: the
-- console's 24-hour and 7-day charts read at most 168 hours per workflow,
-- status, duration class and error kind, where the minutes of a busy day
-- are a hundred thousand rows and made the first, uncached chart slow.
-- hour is the hour's start in microseconds since the epoch.
CREATE TABLE runtime_outcome_hours (
    env         TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    workflow_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    class       INTEGER NOT NULL,
    error_kind  TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (env, hour, workflow_id, status, class, error_kind)
);
CREATE INDEX runtime_outcome_hours_hour ON runtime_outcome_hours(hour);
INSERT INTO runtime_outcome_hours (env, hour, workflow_id, status, class, error_kind, n)
    SELECT env, (minute / 3600000000) * 3600000000, workflow_id, status, class, error_kind, SUM(n)
    FROM runtime_outcome_minutes
    GROUP BY env, (minute / 3600000000) * 3600000000, workflow_id, status, class, error_kind;
