-- What each host's agent last reported: its version, the document revision it applied,
-- its last error (crate sshward-agent). Written by the agent, never bumps the revision.
ALTER TABLE hosts ADD COLUMN agent_version TEXT;
ALTER TABLE hosts ADD COLUMN applied_revision BIGINT;
ALTER TABLE hosts ADD COLUMN last_error TEXT;
ALTER TABLE hosts ADD COLUMN reported_at BIGINT;
