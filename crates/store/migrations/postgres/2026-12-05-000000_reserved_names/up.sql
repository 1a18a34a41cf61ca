-- Names a team keeps off sshward's users and groups, beyond the built-in list (JSON array).
ALTER TABLE posix_settings ADD COLUMN reserved_names TEXT NOT NULL DEFAULT '[]';
