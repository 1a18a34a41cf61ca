//! Joining a host: `POST /api/v1/hosts/join`.

use serde::{Deserialize, Serialize};

use crate::cert::HostCertificatesResponse;

/// The body of a join request. The join token may come here or as the bearer token of
/// the request; a host gets exactly the tags its token confers, and `tags`, when given,
/// must all be among them (a host never chooses its own environment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The one-time join token (`sshward host join-token create`), unless sent as
    /// `Authorization: Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The host's name (letters, digits, `-` and dots; lower-cased by the server).
    pub hostname: String,
    /// Tags (`key=value`) the host expects; each must be conferred by the token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The host's public keys, one OpenSSH line each: the answer carries a host
    /// certificate for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_keys: Vec<String>,
}

/// The answer to a successful join (201). The credential is shown only here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinResponse {
    /// The host's id in its team.
    pub host_id: i64,
    /// The hostname as stored (lower case).
    pub hostname: String,
    /// The tags the host got (`key=value`, sorted).
    pub tags: Vec<String>,
    /// The host's credential: the bearer token of every later request. Keep it secret.
    pub credential: String,
    /// A certificate for each of the request's host keys, and the CA keys to trust.
    pub certificates: HostCertificatesResponse,
}

/// What an agent reports about itself: `POST /api/v1/hosts/self/status` (host credential),
/// answered 204. The server shows it in `sshward host show`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HostReport {
    /// The agent's version (at most 64 characters).
    pub agent_version: String,
    /// The revision of the access document it applied last, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_revision: Option<i64>,
    /// Its last error (at most 1,000 characters), when the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}
