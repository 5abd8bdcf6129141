-- Re-seal runs: a durable job re-encrypts every sealed value (secret
-- variables, workflow encryption keys) under the current master key, so
-- that old keys can leave FLOWGATE_MASTER_KEY. One row per run, with its
-- progress; unreadable_names lists (at most 100) values that did not open.
CREATE TABLE reseal_runs (
    id               TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL DEFAULT 0,
    total            INTEGER NOT NULL DEFAULT 0,
    scanned          INTEGER NOT NULL DEFAULT 0,
    resealed         INTEGER NOT NULL DEFAULT 0,
    unreadable       INTEGER NOT NULL DEFAULT 0,
    unreadable_names TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT ''
);
