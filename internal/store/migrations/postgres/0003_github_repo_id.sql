-- An environment fed by GitHub is bound to the repository's numeric id, not
-- its name: a rename or transfer keeps the binding, a new repository that
-- takes a freed name does not. 0 = not bound yet (bound by the next push of
-- the repository named in ref).
ALTER TABLE sources ADD COLUMN repo_id BIGINT NOT NULL DEFAULT 0;
-- A suspended installation's repositories are kept apart from removed ones,
-- so that unsuspending reconnects them (GitHub's unsuspend event lists none).
ALTER TABLE github_repos ADD COLUMN suspended_at BIGINT NOT NULL DEFAULT 0;
