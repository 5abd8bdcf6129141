-- Re-seal runs: a durable job re-encrypts every sealed value (secret
-- variables, workflow encryption keys) under the current master key, so
-- that old keys can leave FLOWGATE_MASTER_KEY. One row per run, with its
-- progress; unreadable_names lists (at most 100) values that did not open.
CREATE TABLE reseal_runs (
    id               TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT NOT NULL DEFAULT 0,
    total            BIGINT NOT NULL DEFAULT 0,
    scanned          BIGINT NOT NULL DEFAULT 0,
    resealed         BIGINT NOT NULL DEFAULT 0,
    unreadable       BIGINT NOT NULL DEFAULT 0,
    unreadable_names TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT ''
);
