-- Sign-in with OpenID Connect (crates/oidc-login) (SQLite).
-- Timestamps are unix microseconds (BIGINT); JSON is TEXT.

-- A team's OpenID Connect client. The tenant ID and the allowed domains stay on `teams`.
-- The client secret is NOT stored: `client_secret_ref` names where to read it
-- (`file:/path` or `env:NAME`).
CREATE TABLE team_oidc (
    team_id BIGINT PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    client_id TEXT,
    client_secret_ref TEXT,
    issuer TEXT,
    link_by TEXT NOT NULL DEFAULT 'user-name',
    updated_at BIGINT NOT NULL
);

-- Short-lived, single-use sign-in state: pending authorizations (keyed by the SHA-256 of
-- the OAuth state), one-time codes handed to the CLI, device-flow handles. Shared by every
-- instance, so a flow may start on one and finish on another.
CREATE TABLE login_flows (
    key_sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_flows_expires_idx ON login_flows (expires_at);

-- Keys generated on first use when the configuration gives none (session cookie key,
-- access-token signing key), so that every instance uses the same ones.
CREATE TABLE login_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
