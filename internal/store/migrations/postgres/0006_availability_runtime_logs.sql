-- Retention prunes the oldest rows in small batches: it needs them by time.
CREATE INDEX runtime_logs_at ON runtime_logs(at);

-- Per-environment totals, kept with every insert and delete, so quotas
-- are checked without counting rows.
CREATE TABLE runtime_log_totals (
    env   TEXT PRIMARY KEY,
    row_count  BIGINT NOT NULL DEFAULT 0,
    byte_count BIGINT NOT NULL DEFAULT 0
);
INSERT INTO runtime_log_totals (env, row_count, byte_count)
    SELECT env, COUNT(*), COALESCE(SUM(OCTET_LENGTH(message)), 0) FROM runtime_logs GROUP BY env;
