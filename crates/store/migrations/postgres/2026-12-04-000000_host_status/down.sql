ALTER TABLE hosts DROP COLUMN reported_at;
ALTER TABLE hosts DROP COLUMN last_error;
ALTER TABLE hosts DROP COLUMN applied_revision;
ALTER TABLE hosts DROP COLUMN agent_version;
