#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of the `sshward` binary: the real executable, run as an operator
//! would run it (admin commands and `serve`), on SQLite and, with `SSHWARD_TEST_PG_URL`,
//! on PostgreSQL. See [`support`] for the harness.

mod support;

mod agent;
mod audit;
mod certs;
mod config;
mod console;
mod crash;
mod directory;
mod docs;
mod hosts;
mod isolation;
mod login;
mod openapi;
mod postgres;
mod serve;
mod team;
mod tls;
mod token;
mod webdriver;
