#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of the SCIM API: a real server over HTTP, on SQLite and (with
//! `SSHWARD_TEST_PG_URL`) on PostgreSQL; see [`support`] for the harness.

#[macro_use]
mod support;

mod audit;
mod concurrency;
mod entra_groups;
mod entra_users;
mod failures;
mod malformed;
mod protocol;
