//! The store test suites; see [`harness`] for how databases are made.

#[macro_use]
pub mod harness;

mod audit;
mod concurrency;
mod filters;
mod login;
mod members;
mod migrations;
mod teams;
mod tokens;
mod users;
