-- Sign-in sessions, kept server-side so that they can end before they expire: a browser
-- session (its cookie holds the secret) or the session behind a CLI access token (the
-- token's `jti` is the secret). Only the SHA-256 of the secret is stored. Logging out
-- deletes the row; disabling or deleting the user deletes all of theirs.
CREATE TABLE login_sessions (
    key_sha256 TEXT PRIMARY KEY,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    via TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_sessions_user_idx ON login_sessions (team_id, user_id);
CREATE INDEX login_sessions_expires_idx ON login_sessions (expires_at);
