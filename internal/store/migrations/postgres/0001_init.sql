-- Flowgate metadata, version 1 (PostgreSQL). Times are Unix microseconds;
-- booleans are BOOLEAN; JSON is TEXT. Keep in step with ../sqlite/0001_init.sql.

CREATE TABLE environments (
    name               TEXT PRIMARY KEY,
    preview_mode       BOOLEAN NOT NULL DEFAULT FALSE,
    runtime_token_hash TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL
);

-- The repository (or local directory, in dev mode) an environment syncs from.
CREATE TABLE sources (
    env             TEXT PRIMARY KEY REFERENCES environments(name) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    ref             TEXT NOT NULL,
    branch          TEXT NOT NULL DEFAULT '',
    installation_id BIGINT NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE github_installations (
    id         BIGINT PRIMARY KEY,
    account    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE webhook_deliveries (
    delivery_id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL
);

CREATE TABLE syncs (
    id          TEXT PRIMARY KEY,
    env         TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE,
    commit_sha  TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    requested_at BIGINT NOT NULL DEFAULT 0,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0,
    log         TEXT NOT NULL DEFAULT '[]',
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX syncs_env_started ON syncs(env, started_at);

CREATE TABLE sync_check_runs (
    sync_id      TEXT NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    check_run_id BIGINT NOT NULL,
    PRIMARY KEY (sync_id, name)
);

CREATE TABLE workflows (
    env        TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    trigger    TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    file       TEXT NOT NULL DEFAULT '',
    deleted    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (env, id)
);

CREATE TABLE deployments (
    id                    TEXT PRIMARY KEY,
    env                   TEXT NOT NULL,
    workflow_id           TEXT NOT NULL,
    status                TEXT NOT NULL,
    bundle_digest         TEXT NOT NULL DEFAULT '',
    source_map_digest     TEXT NOT NULL DEFAULT '',
    settings              TEXT NOT NULL DEFAULT '{}',
    commit_sha            TEXT NOT NULL DEFAULT '',
    sync_id               TEXT NOT NULL DEFAULT '',
    file                  TEXT NOT NULL DEFAULT '',
    created_at            BIGINT NOT NULL,
    preview_password_hash TEXT NOT NULL DEFAULT '',
    preview_failures      BIGINT NOT NULL DEFAULT 0,
    preview_window_start  BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (env, workflow_id) REFERENCES workflows(env, id) ON DELETE CASCADE
);
CREATE INDEX deployments_workflow ON deployments(env, workflow_id, created_at);
-- At most one Live deployment per workflow, whatever the code above does.
CREATE UNIQUE INDEX deployments_one_live ON deployments(env, workflow_id) WHERE status = 'Live';

-- The live pointer: what the runtime API serves for (env, trigger).
CREATE TABLE live (
    env           TEXT NOT NULL,
    workflow_id   TEXT NOT NULL,
    trigger       TEXT NOT NULL,
    deployment_id TEXT NOT NULL REFERENCES deployments(id),
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (env, workflow_id),
    FOREIGN KEY (env, workflow_id) REFERENCES workflows(env, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX live_trigger ON live(env, trigger);

CREATE TABLE live_history (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    env             TEXT NOT NULL,
    workflow_id     TEXT NOT NULL,
    from_deployment TEXT NOT NULL DEFAULT '',
    to_deployment   TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    actor           TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    at              BIGINT NOT NULL
);
CREATE INDEX live_history_workflow ON live_history(env, workflow_id, seq);

-- Bumped in every transaction that moves a live pointer, so replicas can
-- check one row to know whether their cached pointers are stale.
CREATE TABLE live_versions (
    env     TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE TABLE env_variables (
    env        TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      BYTEA NOT NULL,
    is_secret  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (env, name)
);

CREATE TABLE encryption_keys (
    id          TEXT PRIMARY KEY,
    env         TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    sealed      BYTEA NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    FOREIGN KEY (env, workflow_id) REFERENCES workflows(env, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX encryption_keys_one_active ON encryption_keys(env, workflow_id) WHERE active;

CREATE TABLE runtime_logs (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invocation_id TEXT NOT NULL,
    env           TEXT NOT NULL,
    workflow_id   TEXT NOT NULL DEFAULT '',
    deployment_id TEXT NOT NULL DEFAULT '',
    trigger       TEXT NOT NULL DEFAULT '',
    level         TEXT NOT NULL DEFAULT '',
    message       TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT '',
    duration_us   BIGINT NOT NULL DEFAULT 0,
    at            BIGINT NOT NULL
);
CREATE INDEX runtime_logs_env_at ON runtime_logs(env, at);
CREATE INDEX runtime_logs_workflow_at ON runtime_logs(env, workflow_id, at);
