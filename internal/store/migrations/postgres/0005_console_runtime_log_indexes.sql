-- The web console's runtime-log reads: outcome rows (one per invocation,
-- the only rows with a status) by status and time, for the status and
-- error-kind filters, and a covering index the charts read without
-- touching the table. Both are partial, so console lines cost nothing.
CREATE INDEX runtime_logs_outcome_status ON runtime_logs(env, status, at) WHERE status <> '';
CREATE INDEX runtime_logs_outcome_workflow ON runtime_logs(env, workflow_id, status, at) WHERE status <> '';
CREATE INDEX runtime_logs_outcome_stats ON runtime_logs(env, at, workflow_id, status, duration_us) WHERE status <> '';
-- One invocation's lines (the console's and the API's ?invocation= view).
CREATE INDEX runtime_logs_invocation ON runtime_logs(invocation_id);
