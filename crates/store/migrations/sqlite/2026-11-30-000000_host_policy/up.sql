-- Host access (crate host-policy): POSIX identities, hosts and their tags, join tokens,
-- and grants from IdP groups to tagged hosts (SQLite). Secrets are stored only as
-- lower-case hex SHA-256 digests.

-- Per-team POSIX settings and the allocation counter (one row per team, created on first
-- allocation; `UPDATE ... next_id = next_id + n` serialises allocations of a team).
CREATE TABLE posix_settings (
    team_id BIGINT PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    id_min BIGINT NOT NULL,
    id_max BIGINT NOT NULL,
    next_id BIGINT NOT NULL,
    username_style TEXT NOT NULL,
    home_base TEXT NOT NULL,
    shell TEXT NOT NULL
);

-- One row per SCIM user (kind 'user': uid, private gid = uid) or group (kind 'group':
-- gid) that ever got a POSIX identity. Rows outlive the SCIM resource (released_at is
-- set), so numbers and names are never given out twice.
CREATE TABLE posix_ids (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    scim_id TEXT NOT NULL,
    name TEXT NOT NULL,
    number BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    released_at BIGINT,
    PRIMARY KEY (team_id, kind, scim_id)
);
CREATE UNIQUE INDEX posix_ids_number_key ON posix_ids (team_id, number);
CREATE UNIQUE INDEX posix_ids_name_key ON posix_ids (team_id, name);

CREATE TABLE hosts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    hostname TEXT NOT NULL,
    credential_sha256 TEXT NOT NULL,
    join_token_id BIGINT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT
);
CREATE UNIQUE INDEX hosts_hostname_key ON hosts (team_id, hostname);
CREATE UNIQUE INDEX hosts_credential_key ON hosts (credential_sha256);

CREATE TABLE host_tags (
    host_id BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (host_id, key, value)
);
CREATE INDEX host_tags_team_idx ON host_tags (team_id, key, value);

-- One-time join tokens: `tags` (JSON array of "key=value") are conferred on the host
-- that redeems the token; `used_at` is set exactly once.
CREATE TABLE host_join_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    used_by_host BIGINT
);
CREATE UNIQUE INDEX host_join_tokens_sha256_key ON host_join_tokens (token_sha256);
CREATE INDEX host_join_tokens_team_idx ON host_join_tokens (team_id);

-- Grants reference the group by its immutable SCIM id; deleting the group deletes them.
CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id BIGINT NOT NULL,
    group_id TEXT NOT NULL,
    hosts TEXT NOT NULL,
    role TEXT NOT NULL,
    extra_groups TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    FOREIGN KEY (team_id, group_id) REFERENCES scim_groups (team_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX grants_key ON grants (team_id, group_id, hosts, role);
CREATE INDEX grants_team_idx ON grants (team_id);
