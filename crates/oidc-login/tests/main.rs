#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of the sign-in: the real `oidc-provider-mock` provider, a real
//! sshward server (SCIM API + sign-in routes) over HTTP, and the CLI's loopback and device
//! flows. See [`support`] for the harness. Skipped without `SSHWARD_TEST_VENV` (failed
//! when `CI=true`), except [`refusals`], which needs no provider.

mod support;

mod cli;
mod fake;
mod jwks;
mod refusals;
mod sealed_keys;
mod web;
