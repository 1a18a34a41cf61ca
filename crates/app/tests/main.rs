#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of the application layer on real databases: SQLite always,
//! PostgreSQL with `SSHWARD_TEST_PG_URL` (required when `CI=true`), from [`testkit`].

mod admin;
mod allocation;
