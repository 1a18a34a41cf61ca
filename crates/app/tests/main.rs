#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of the application layer on real databases: SQLite always,
//! PostgreSQL with `SSHWARD_TEST_PG_URL` (required when `CI=true`), from [`testkit`].

mod admin;
mod allocation;
mod certificates;

/// A fresh key-encryption key.
pub fn test_kek() -> app::Kek {
    app::Kek::generate().unwrap()
}
