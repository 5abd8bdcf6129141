-- Repositories the GitHub App is installed on (installation and
-- installation_repositories events); removed_at > 0 once uninstalled.
CREATE TABLE github_repos (
    repo            TEXT PRIMARY KEY,
    installation_id INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    removed_at      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX github_repos_installation ON github_repos(installation_id);
