DROP TABLE grants;
DROP TABLE host_join_tokens;
DROP TABLE host_tags;
DROP TABLE hosts;
DROP TABLE posix_ids;
DROP TABLE posix_settings;
