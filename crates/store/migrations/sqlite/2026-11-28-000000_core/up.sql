-- Teams, SCIM tokens, SCIM users and groups, group members and the audit log (SQLite).
-- Timestamps are unix microseconds (BIGINT); JSON is TEXT. Columns suffixed `_lower` hold
-- the Unicode lower-cased value of a case-insensitive SCIM attribute and carry its index.

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL,
    display_name TEXT NOT NULL,
    entra_tenant_id TEXT,
    allowed_domains TEXT NOT NULL DEFAULT '[]',
    revision BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX teams_slug_key ON teams (slug);

CREATE TABLE scim_tokens (
    id INTEGER PRIMARY KEY,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX scim_tokens_sha256_key ON scim_tokens (token_sha256);
CREATE INDEX scim_tokens_team_idx ON scim_tokens (team_id);

CREATE TABLE scim_users (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    user_name_lower TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT,
    display_name_lower TEXT,
    active BOOLEAN,
    given_name_lower TEXT,
    family_name_lower TEXT,
    work_email_lower TEXT,
    work_email_ambiguous BOOLEAN NOT NULL DEFAULT 0,
    data TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, id)
);
CREATE UNIQUE INDEX scim_users_user_name_key ON scim_users (team_id, user_name_lower);
CREATE INDEX scim_users_external_id_idx ON scim_users (team_id, external_id);
CREATE INDEX scim_users_display_name_idx ON scim_users (team_id, display_name_lower);
CREATE INDEX scim_users_given_name_idx ON scim_users (team_id, given_name_lower);
CREATE INDEX scim_users_family_name_idx ON scim_users (team_id, family_name_lower);
CREATE INDEX scim_users_work_email_idx ON scim_users (team_id, work_email_lower);
-- Users with several work emails: always candidates for a work-email filter.
CREATE INDEX scim_users_work_email_ambiguous_idx ON scim_users (team_id) WHERE work_email_ambiguous;
CREATE INDEX scim_users_active_idx ON scim_users (team_id, active);
CREATE INDEX scim_users_created_idx ON scim_users (team_id, created_at, id);

CREATE TABLE scim_groups (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    external_id TEXT,
    data TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, id)
);
CREATE UNIQUE INDEX scim_groups_display_name_key ON scim_groups (team_id, display_name_lower);
CREATE INDEX scim_groups_external_id_idx ON scim_groups (team_id, external_id);
CREATE INDEX scim_groups_created_idx ON scim_groups (team_id, created_at, id);

-- One row per (group, member). Members are users of the same team: the composite
-- foreign keys make a cross-team or dangling row impossible.
CREATE TABLE scim_group_members (
    team_id BIGINT NOT NULL,
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, group_id, member_id),
    FOREIGN KEY (team_id, group_id) REFERENCES scim_groups (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, member_id) REFERENCES scim_users (team_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_member_idx ON scim_group_members (team_id, member_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id BIGINT REFERENCES teams (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    status INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX audit_log_team_idx ON audit_log (team_id, at, id);
