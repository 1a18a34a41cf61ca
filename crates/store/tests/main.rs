#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of the store. Every suite runs on SQLite and on PostgreSQL
//! (`SSHWARD_TEST_PG_URL`, set by `scripts/test.sh`); each test gets its own database.

mod store;
