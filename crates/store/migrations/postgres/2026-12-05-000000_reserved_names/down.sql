ALTER TABLE posix_settings DROP COLUMN reserved_names;
