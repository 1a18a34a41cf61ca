//! The one integration test binary of scim-core (each file under `tests/` would link
//! separately and slowly): property tests of the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod properties;
