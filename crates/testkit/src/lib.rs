//! The integration-test harness shared by sshward's crates (a dev-dependency only):
//!
//! - [`db`]: a database per test on SQLite or PostgreSQL, removed when dropped;
//! - [`server`]: an actix-web server on a free loopback port in a thread of its own,
//!   stopped when dropped;
//! - [`required_env`]: the rule for test groups that need an environment variable
//!   (skipped without it, failed without it when `CI=true`).
//!
//! What only one crate's tests need (SCIM clients, Entra payloads, the OpenID provider
//! mock) stays in that crate's `tests/`.

// Test support: a failed set-up must stop the test at once, with a message.
#![allow(clippy::expect_used, clippy::panic)]

pub mod db;
pub mod server;

/// The value of the environment variable `var`, or `None` (after printing
/// `SKIPPED (what): …`) when it is unset or blank: the tests of `what` then return
/// without running. With `CI=true` a missing variable fails the test instead, never a
/// silent skip. `how` tells the reader how the variable gets set.
pub fn required_env(var: &str, what: &str, how: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{var} is not set but CI=true: the {what} tests must run ({how})");
            }
            eprintln!("SKIPPED ({what}): {var} is not set; {how}");
            None
        }
    }
}
