#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Scenario and HTTP tests of the host-agent API.
