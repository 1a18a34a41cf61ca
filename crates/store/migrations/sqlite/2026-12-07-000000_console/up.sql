-- Console administrators of a team: SCIM users named one by one, and SCIM groups whose
-- members all are (both by immutable SCIM id, never by name).
CREATE TABLE console_admins (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    scim_id TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, kind, scim_id)
);

-- One-time console sign-in links (`sshward admin link`), for the first setup before a
-- team's Entra sign-in works. Only the SHA-256 of the secret is stored.
CREATE TABLE console_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    key_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE UNIQUE INDEX console_links_sha256_key ON console_links (key_sha256);

-- The console lists a team's failed requests first and counts them: a partial index
-- holds only the failures, so finding them does not read every success.
CREATE INDEX audit_log_failed_idx ON audit_log (team_id, at, id) WHERE status >= 400;
