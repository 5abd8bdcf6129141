-- Recording of trigger traffic (docs/recording.md), opt-in per environment.
-- settings is JSON (recording.Settings); pii_key is the environment's
-- personal-data hashing key, sealed with the master key.
CREATE TABLE recording_settings (
    env        TEXT PRIMARY KEY REFERENCES environments(name) ON DELETE CASCADE,
    settings   TEXT NOT NULL,
    pii_key    BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One recorded trigger call: replay.Recorded as JSON, already redacted,
-- sealed with the master key (bound to env and id).
CREATE TABLE recordings (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    env         TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    sealed      BLOB NOT NULL
);
CREATE INDEX recordings_workflow ON recordings(env, workflow_id, seq);
CREATE INDEX recordings_at ON recordings(env, at);
