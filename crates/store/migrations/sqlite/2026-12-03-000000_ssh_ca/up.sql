-- The SSH certificate authority (crate ssh-ca) (SQLite). Timestamps are unix microseconds.

-- Each team's CA keys: at most one active user CA and one active host CA. The private key
-- is sealed with the key-encryption key (crate keyring), never stored in clear. A rotated
-- key is retired (signs no more) and stays published until `published_until`, so hosts
-- and clients trust both during the overlap.
CREATE TABLE ca_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    public_key TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    published_until BIGINT
);
CREATE UNIQUE INDEX ca_keys_active_key ON ca_keys (team_id, kind) WHERE retired_at IS NULL;

-- Per-team certificate settings; a team without a row uses the defaults.
CREATE TABLE ca_settings (
    team_id BIGINT PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    user_cert_ttl_secs BIGINT NOT NULL,
    host_cert_ttl_secs BIGINT NOT NULL,
    extensions TEXT NOT NULL,
    host_domains TEXT NOT NULL,
    rotation_overlap_secs BIGINT NOT NULL
);

-- Every certificate issued. The serial is the row id: unique across the server, so unique
-- in each team and never reused. `subject` is the user's SCIM id (kind 'user') or the
-- host's id (kind 'host'); rows outlive both, for the record and the revocation list.
CREATE TABLE certificates (
    serial INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    ca_key_id BIGINT NOT NULL REFERENCES ca_keys (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    key_id TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    principals TEXT NOT NULL,
    valid_after BIGINT NOT NULL,
    valid_before BIGINT NOT NULL,
    requester TEXT,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX certificates_subject_idx ON certificates (team_id, kind, subject, valid_before);
CREATE INDEX certificates_team_idx ON certificates (team_id, valid_before);
-- The revocation list: revoked certificates that have not expired.
CREATE INDEX certificates_revoked_idx ON certificates (team_id, valid_before)
    WHERE revoked_at IS NOT NULL;
