//! sshward's SSH certificate authority, pure: no I/O, no database, no clock (callers pass
//! times and a random source).
//!
//! - [`subject`]: the public keys sshward signs ([`SubjectKey`]): Ed25519, ECDSA
//!   P-256/384/521 and RSA of at least 3072 bits; everything else is refused with a reason;
//! - [`cert`]: a team's [`CaKey`] (Ed25519) and the user and host certificates it signs
//!   ([`UserCert`], [`HostCert`], [`Extensions`]);
//! - [`krl`]: OpenSSH key revocation lists ([`Krl`]) in the binary format of OpenSSH's
//!   `PROTOCOL.krl`: certificate serials (as lists and ranges) and key IDs per CA, explicit
//!   keys and SHA-256 fingerprints, written in canonical order so that the same revocations
//!   always give the same bytes.
//!
//! ```
//! use ssh_ca::{CaKey, Extensions, Krl, SubjectKey, UserCert};
//! use ssh_ca::rand_core::OsRng;
//!
//! let ca = CaKey::generate(&mut OsRng).unwrap();
//! let key: SubjectKey =
//!     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYm2nRDmoB7AGdzjgkn6xbXuaI3XXvPEvE4OUe2ybBz alice"
//!         .parse()
//!         .unwrap();
//! let request = UserCert {
//!     serial: 7,
//!     key_id: "sshward:acme:u-1:7".into(),
//!     principals: vec!["alice".into()],
//!     valid_after: 1_800_000_000,
//!     valid_before: 1_800_057_600,
//!     extensions: Extensions::default(),
//! };
//! let cert = ca.sign_user(&mut OsRng, &key, &request).unwrap();
//! assert!(cert.starts_with("ssh-ed25519-cert-v01@openssh.com "));
//!
//! let mut krl = Krl::new(1, 1_800_000_100);
//! krl.revoke_serial(&ca.public_key(), 7);
//! assert!(krl.to_bytes().starts_with(b"SSHKRL\n\0"));
//! ```

pub mod cert;
pub mod krl;
pub mod subject;

pub use cert::{CaKey, Extensions, HostCert, UserCert, verify_statement};
pub use krl::Krl;
pub use ssh_key::PublicKey;
pub use ssh_key::rand_core;
pub use subject::SubjectKey;

/// Why a key, certificate or revocation list could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaError {
    /// A public key that sshward does not sign (the message says why).
    #[error("{0}")]
    UnsupportedKey(String),
    /// A certificate request that makes no sense (no principal, empty validity, ...).
    #[error("{0}")]
    InvalidRequest(String),
    /// A CA private key that cannot be read or used.
    #[error("CA key: {0}")]
    CaKey(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}
