DROP INDEX audit_log_failed_idx;
DROP TABLE console_links;
DROP TABLE console_admins;
