//! The public keys sshward signs certificates for.

use std::str::FromStr;

use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::{HashAlg, PublicKey};

use crate::CaError;

/// The smallest RSA modulus sshward signs, in bits (NIST SP 800-57: 3072 bits for
/// security beyond 2030).
pub const MIN_RSA_BITS: usize = 3072;

/// Longest public key text accepted (an RSA-16384 key is about 2,800 characters).
pub const MAX_KEY_TEXT: usize = 16 * 1024;

/// A public key sshward will sign: Ed25519, ECDSA on P-256, P-384 or P-521, or RSA of at
/// least [`MIN_RSA_BITS`] bits. Parsed from the OpenSSH text form
/// (`ssh-ed25519 AAAA... comment`); DSA, short RSA, security-key (`sk-`) keys and
/// certificates are refused, each with its own message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectKey(PublicKey);

impl SubjectKey {
    /// The key.
    pub fn public_key(&self) -> &PublicKey {
        &self.0
    }

    /// The SHA-256 fingerprint as OpenSSH prints it (`SHA256:...`).
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint(HashAlg::Sha256).to_string()
    }

    /// Checks a parsed key.
    pub fn new(key: PublicKey) -> Result<SubjectKey, CaError> {
        let refuse = |why: String| Err(CaError::UnsupportedKey(why));
        match key.key_data() {
            KeyData::Ed25519(_) => {}
            KeyData::Ecdsa(
                EcdsaPublicKey::NistP256(_)
                | EcdsaPublicKey::NistP384(_)
                | EcdsaPublicKey::NistP521(_),
            ) => {}
            KeyData::Rsa(rsa) => {
                let bits = rsa.n.as_positive_bytes().map_or(0, |n| {
                    n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize)
                });
                if bits < MIN_RSA_BITS {
                    return refuse(format!(
                        "an RSA key of {bits} bits is too weak: use Ed25519 (ssh-keygen -t \
                         ed25519) or RSA of at least {MIN_RSA_BITS} bits"
                    ));
                }
            }
            KeyData::Dsa(_) => {
                return refuse(
                    "ssh-dss (DSA) keys are insecure and OpenSSH no longer accepts them: use \
                     Ed25519 (ssh-keygen -t ed25519)"
                        .into(),
                );
            }
            other => {
                return refuse(format!(
                    "{} keys are not signed: use Ed25519, ECDSA (P-256, P-384, P-521) or \
                     RSA of at least {MIN_RSA_BITS} bits",
                    other.algorithm()
                ));
            }
        }
        Ok(SubjectKey(key))
    }
}

impl FromStr for SubjectKey {
    type Err = CaError;

    fn from_str(text: &str) -> Result<SubjectKey, CaError> {
        let text = text.trim();
        if text.len() > MAX_KEY_TEXT {
            return Err(CaError::UnsupportedKey(format!(
                "a public key is at most {MAX_KEY_TEXT} characters"
            )));
        }
        if text
            .split_whitespace()
            .next()
            .is_some_and(|t| t.contains("-cert-v01@"))
        {
            return Err(CaError::UnsupportedKey(
                "this is a certificate: send the public key itself (KEY.pub, not KEY-cert.pub)"
                    .into(),
            ));
        }
        let key = PublicKey::from_openssh(text).map_err(|e| {
            CaError::UnsupportedKey(format!(
                "not an OpenSSH public key (\"ssh-ed25519 AAAA... comment\"): {e}"
            ))
        })?;
        SubjectKey::new(key)
    }
}
