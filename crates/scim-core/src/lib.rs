//! SCIM 2.0 (RFC 7643 / RFC 7644) as pure logic: schemas as data, lenient request
//! normalisation, the filter language, the PATCH engine and response projection.
//!
//! No I/O happens here; storage and HTTP live in other crates.

pub mod filter;
