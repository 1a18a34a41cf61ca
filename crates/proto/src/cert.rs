//! SSH certificates: `POST /api/v1/ssh/user-certificate` (a signed-in person, with the
//! access token of `sshward login`) and `POST /api/v1/hosts/self/certificates` (a host,
//! with its credential).

use serde::{Deserialize, Serialize};

/// A person's request for a user certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserCertificateRequest {
    /// The public key to certify, one OpenSSH line (`ssh-ed25519 AAAA... comment`):
    /// Ed25519, ECDSA P-256/384/521, or RSA of at least 3072 bits.
    pub public_key: String,
}

/// A signed certificate and what it allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateResponse {
    /// The certificate, one OpenSSH line (what `KEY-cert.pub` holds).
    pub certificate: String,
    /// Its serial (what revocation names).
    pub serial: i64,
    /// Its key ID (`sshward:TEAM:USER-ID:SERIAL` for people).
    pub key_id: String,
    /// The names it is valid for: the POSIX username, or the host's names.
    pub principals: Vec<String>,
    /// Valid from, unix seconds.
    pub valid_after: i64,
    /// Valid until, unix seconds.
    pub valid_before: i64,
}

/// A host's request for host certificates (renewal; joining sends the keys too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HostCertificatesRequest {
    /// The host's public keys (`/etc/ssh/ssh_host_*_key.pub`), one OpenSSH line each.
    pub host_keys: Vec<String>,
}

/// The host certificates and the team's CA keys to trust.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostCertificatesResponse {
    /// One certificate per host key, in the order sent.
    pub certificates: Vec<CertificateResponse>,
    /// The team's user CA keys (sshd's `TrustedUserCAKeys`): the active key first, then
    /// rotated ones still trusted.
    pub user_ca_keys: Vec<String>,
    /// The team's host CA keys (for clients' `@cert-authority` lines).
    pub host_ca_keys: Vec<String>,
}
