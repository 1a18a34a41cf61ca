#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of host-policy's agent API and store glue: a real actix-web server
//! with the SCIM API and the agent API over one store, on SQLite and (with
//! `SSHWARD_TEST_PG_URL`) on PostgreSQL. Databases and the server thread come from
//! [`testkit`].

#[macro_use]
mod support;

mod agent;
mod failures;
mod scenarios;
