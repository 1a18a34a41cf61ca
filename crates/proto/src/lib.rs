//! The JSON wire types that the sshward server and its host agents share.
//!
//! Serde types only, no I/O: the server serialises them, `sshward-agent` (or anyone's
//! script) deserialises them, and both depend on this crate so that neither side can drift.
//!
//! - [`access`]: the [`AccessDocument`] a host receives from `GET /api/v1/hosts/self/access`;
//! - [`join`]: the [`JoinRequest`] of `POST /api/v1/hosts/join` and its [`JoinResponse`];
//! - [`cert`]: SSH certificates for people ([`UserCertificateRequest`]) and hosts
//!   ([`HostCertificatesRequest`]), answered with [`CertificateResponse`]s;
//! - [`error`]: the [`ErrorBody`] that every non-SCIM JSON API answers errors with
//!   (`{"error": CODE, "message": TEXT}`; SCIM routes use RFC 7644's error schema instead).
//!
//! Field names are part of the public API: a rename is a breaking change for every
//! deployed agent. Each type has a golden JSON file under `tests/golden/`.
//!
//! ```
//! let body: proto::ErrorBody =
//!     serde_json::from_str(r#"{"error":"unauthorized","message":"no credential"}"#).unwrap();
//! assert_eq!(body.error, proto::ErrorCode::Unauthorized);
//! ```

pub mod access;
pub mod cert;
pub mod error;
pub mod join;

pub use access::{
    AccessDocument, AccessGroup, AccessUser, PosixAccount, SIGNATURE_HEADER, SIGNATURE_NAMESPACE,
    json_head, signed_statement,
};
pub use cert::{
    CertificateResponse, HostCertificatesRequest, HostCertificatesResponse, UserCertificateRequest,
};
pub use error::{ErrorBody, ErrorCode};
pub use join::{HostReport, JoinRequest, JoinResponse};
