//! A team's certificate authority key and the certificates it signs.

use ssh_key::certificate::{Builder, CertType};
use ssh_key::rand_core::CryptoRngCore;
use ssh_key::{Algorithm, LineEnding, PrivateKey, PublicKey};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{CaError, SubjectKey};

/// Most principals one certificate may name.
pub const MAX_PRINCIPALS: usize = 64;

/// What a user certificate permits beyond logging in. The defaults are those of sshward's
/// teams: a terminal, agent and port forwarding; no X11 forwarding, no `~/.ssh/rc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extensions {
    /// `permit-pty`.
    pub pty: bool,
    /// `permit-agent-forwarding`.
    pub agent_forwarding: bool,
    /// `permit-port-forwarding`.
    pub port_forwarding: bool,
    /// `permit-X11-forwarding`.
    pub x11_forwarding: bool,
    /// `permit-user-rc`.
    pub user_rc: bool,
}

impl Default for Extensions {
    fn default() -> Self {
        Extensions {
            pty: true,
            agent_forwarding: true,
            port_forwarding: true,
            x11_forwarding: false,
            user_rc: false,
        }
    }
}

impl Extensions {
    /// The OpenSSH names of the permitted extensions.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.x11_forwarding, "permit-X11-forwarding"),
            (self.agent_forwarding, "permit-agent-forwarding"),
            (self.port_forwarding, "permit-port-forwarding"),
            (self.pty, "permit-pty"),
            (self.user_rc, "permit-user-rc"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    /// The extensions named (OpenSSH names, as [`Extensions::names`] gives them); every
    /// other one is off. An unknown name is an error that lists the known ones.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Extensions, CaError> {
        let mut on = Extensions {
            pty: false,
            agent_forwarding: false,
            port_forwarding: false,
            x11_forwarding: false,
            user_rc: false,
        };
        for name in names {
            let flag = match name.as_ref() {
                "permit-pty" => &mut on.pty,
                "permit-agent-forwarding" => &mut on.agent_forwarding,
                "permit-port-forwarding" => &mut on.port_forwarding,
                "permit-X11-forwarding" => &mut on.x11_forwarding,
                "permit-user-rc" => &mut on.user_rc,
                other => {
                    return Err(CaError::InvalidRequest(format!(
                        "unknown extension {other:?}: the extensions are permit-pty, \
                         permit-agent-forwarding, permit-port-forwarding, \
                         permit-X11-forwarding and permit-user-rc"
                    )));
                }
            };
            *flag = true;
        }
        Ok(on)
    }
}

/// A user certificate to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCert {
    /// Serial number, unique per CA (sshward: per team, from the database).
    pub serial: u64,
    /// Key ID, logged by sshd at every login (sshward: `sshward:TEAM:USER:SERIAL`).
    pub key_id: String,
    /// Principals: the POSIX user names the certificate may log in as.
    pub principals: Vec<String>,
    /// Valid from (seconds since the epoch).
    pub valid_after: u64,
    /// Valid until, exclusive (seconds since the epoch).
    pub valid_before: u64,
    /// What it permits.
    pub extensions: Extensions,
}

/// A host certificate to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCert {
    /// Serial number, unique per CA.
    pub serial: u64,
    /// Key ID (sshward: `sshward:TEAM:host:HOSTNAME:SERIAL`).
    pub key_id: String,
    /// Principals: the names clients reach the host by.
    pub principals: Vec<String>,
    /// Valid from (seconds since the epoch).
    pub valid_after: u64,
    /// Valid until, exclusive (seconds since the epoch).
    pub valid_before: u64,
}

/// A certificate authority key: Ed25519, as OpenSSH recommends for CAs. Its `Debug`
/// shows the public key's fingerprint only.
#[derive(Clone)]
pub struct CaKey {
    key: PrivateKey,
    /// The same key, expanded once for signing.
    signer: Ed25519Signer,
}

/// An Ed25519 key that signs for ssh-key. ssh-key's own keys re-derive the public key
/// from the secret and check it against the stored one on every signature: two more
/// curve operations than the signature itself (a fleet's document signatures are one per
/// host and change).
#[derive(Clone)]
struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
    public: ssh_key::public::KeyData,
}

impl ed25519_dalek::Signer<ssh_key::Signature> for Ed25519Signer {
    fn try_sign(
        &self,
        message: &[u8],
    ) -> Result<ssh_key::Signature, ed25519_dalek::SignatureError> {
        let signature = ed25519_dalek::Signer::sign(&self.key, message);
        ssh_key::Signature::new(Algorithm::Ed25519, signature.to_bytes().to_vec())
            .map_err(ed25519_dalek::SignatureError::from_source)
    }
}

impl From<&Ed25519Signer> for ssh_key::public::KeyData {
    fn from(signer: &Ed25519Signer) -> Self {
        signer.public.clone()
    }
}

impl std::fmt::Debug for CaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fingerprint = self.key.public_key().fingerprint(ssh_key::HashAlg::Sha256);
        f.debug_tuple("CaKey")
            .field(&fingerprint.to_string())
            .finish()
    }
}

impl CaKey {
    /// Signs `message` in OpenSSH's SSHSIG format under `namespace` (which keeps a
    /// signature of one kind from being taken for another); the PEM text, base64-encoded
    /// so that it fits one HTTP header.
    pub fn sign_statement(&self, namespace: &str, message: &[u8]) -> Result<String, CaError> {
        let signature =
            ssh_key::SshSig::sign(&self.signer, namespace, ssh_key::HashAlg::Sha512, message)
                .map_err(|e| CaError::Signing(e.to_string()))?;
        let pem = signature
            .to_pem(LineEnding::LF)
            .map_err(|e| CaError::Signing(e.to_string()))?;
        Ok(STANDARD.encode(pem))
    }

    /// A new random CA key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Result<CaKey, CaError> {
        let key = PrivateKey::random(rng, Algorithm::Ed25519)
            .map_err(|e| CaError::CaKey(e.to_string()))?;
        CaKey::new(key)
    }

    /// A CA key of an Ed25519 private key, checked once (the public key must be the
    /// secret's).
    fn new(key: PrivateKey) -> Result<CaKey, CaError> {
        let keypair = key
            .key_data()
            .ed25519()
            .ok_or_else(|| CaError::CaKey("an Ed25519 key is expected".into()))?;
        let signer = Ed25519Signer {
            key: ed25519_dalek::SigningKey::try_from(keypair)
                .map_err(|e| CaError::CaKey(e.to_string()))?,
            public: key.public_key().key_data().clone(),
        };
        Ok(CaKey { key, signer })
    }

    /// A CA key from its OpenSSH private key text (unencrypted: sshward encrypts it
    /// itself before storing it).
    pub fn from_openssh(text: &str) -> Result<CaKey, CaError> {
        let key = PrivateKey::from_openssh(text).map_err(|e| CaError::CaKey(e.to_string()))?;
        if key.algorithm() != Algorithm::Ed25519 || key.is_encrypted() {
            return Err(CaError::CaKey(
                "an unencrypted Ed25519 key is expected".into(),
            ));
        }
        CaKey::new(key)
    }

    /// The private key as OpenSSH text. A secret: encrypt it before it goes anywhere.
    pub fn to_openssh(&self) -> Result<String, CaError> {
        self.key
            .to_openssh(LineEnding::LF)
            .map(|text| text.to_string())
            .map_err(|e| CaError::CaKey(e.to_string()))
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key().clone()
    }

    /// The public key as one OpenSSH line (`ssh-ed25519 AAAA... COMMENT`), as
    /// `TrustedUserCAKeys` and `@cert-authority` want it.
    pub fn public_key_line(&self, comment: &str) -> Result<String, CaError> {
        let mut key = self.public_key();
        key.set_comment(comment);
        key.to_openssh().map_err(|e| CaError::CaKey(e.to_string()))
    }

    /// Signs a user certificate for `key`; returns it as one OpenSSH line
    /// (`ssh-ed25519-cert-v01@openssh.com AAAA...`).
    pub fn sign_user(
        &self,
        rng: &mut impl CryptoRngCore,
        key: &SubjectKey,
        cert: &UserCert,
    ) -> Result<String, CaError> {
        let mut builder = self.builder(
            rng,
            key,
            CertType::User,
            (cert.serial, &cert.key_id, &cert.principals),
            (cert.valid_after, cert.valid_before),
        )?;
        for name in cert.extensions.names() {
            builder
                .extension(name, "")
                .map_err(|e| CaError::Signing(e.to_string()))?;
        }
        self.finish(builder)
    }

    /// Signs a host certificate for host key `key`; returns it as one OpenSSH line.
    pub fn sign_host(
        &self,
        rng: &mut impl CryptoRngCore,
        key: &SubjectKey,
        cert: &HostCert,
    ) -> Result<String, CaError> {
        let builder = self.builder(
            rng,
            key,
            CertType::Host,
            (cert.serial, &cert.key_id, &cert.principals),
            (cert.valid_after, cert.valid_before),
        )?;
        self.finish(builder)
    }

    /// A builder with everything user and host certificates share, checked.
    fn builder(
        &self,
        rng: &mut impl CryptoRngCore,
        key: &SubjectKey,
        cert_type: CertType,
        (serial, key_id, principals): (u64, &str, &[String]),
        (valid_after, valid_before): (u64, u64),
    ) -> Result<Builder, CaError> {
        let invalid = |why: &str| Err(CaError::InvalidRequest(why.to_owned()));
        if principals.is_empty() {
            // No principals would make a certificate valid for every user or host name.
            return invalid("a certificate must name at least one principal");
        }
        if principals.len() > MAX_PRINCIPALS {
            return invalid("a certificate names at most 64 principals");
        }
        let bad = |s: &str| s.is_empty() || s.chars().any(|c| c.is_control() || c == ',');
        if principals.iter().any(|p| bad(p)) {
            return invalid("a principal must not be empty or hold a comma or control character");
        }
        if key_id.chars().any(char::is_control) {
            return invalid("a key ID must not hold control characters");
        }
        if valid_after >= valid_before {
            return invalid("a certificate must be valid for some time");
        }
        if key.public_key().key_data() == &self.signer.public {
            return invalid("a CA does not sign its own key");
        }
        let sign = |e: ssh_key::Error| CaError::Signing(e.to_string());
        let mut builder = Builder::new_with_random_nonce(
            rng,
            key.public_key().key_data().clone(),
            valid_after,
            valid_before,
        )
        .map_err(sign)?;
        builder
            .serial(serial)
            .map_err(sign)?
            .key_id(key_id)
            .map_err(sign)?
            .cert_type(cert_type)
            .map_err(sign)?;
        for principal in principals {
            builder.valid_principal(principal.as_str()).map_err(sign)?;
        }
        Ok(builder)
    }

    fn finish(&self, builder: Builder) -> Result<String, CaError> {
        let cert = builder
            .sign(&self.signer)
            .map_err(|e| CaError::Signing(e.to_string()))?;
        cert.to_openssh()
            .map_err(|e| CaError::Signing(e.to_string()))
    }
}

/// Checks a signature made by [`CaKey::sign_statement`] over `message` under `namespace`
/// against any of `keys` (a rotation publishes two).
pub fn verify_statement(
    keys: &[PublicKey],
    namespace: &str,
    message: &[u8],
    signature: &str,
) -> Result<(), CaError> {
    let pem = STANDARD
        .decode(signature.trim())
        .map_err(|_| CaError::InvalidRequest("the signature is not base64".into()))?;
    let signature = ssh_key::SshSig::from_pem(&pem).map_err(|e| {
        CaError::InvalidRequest(format!("the signature is not an SSH signature: {e}"))
    })?;
    if keys
        .iter()
        .any(|k| k.verify(namespace, message, &signature).is_ok())
    {
        Ok(())
    } else {
        Err(CaError::InvalidRequest(
            "the signature is not by any of the pinned keys".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ssh_key::rand_core::OsRng;

    #[test]
    fn statements_verify_only_with_their_key_namespace_and_bytes() {
        let ca = CaKey::generate(&mut OsRng).unwrap();
        let other = CaKey::generate(&mut OsRng).unwrap();
        let sig = ca.sign_statement("doc@sshward", b"revision 7").unwrap();
        let keys = [other.public_key(), ca.public_key()];
        assert!(verify_statement(&keys, "doc@sshward", b"revision 7", &sig).is_ok());
        assert!(verify_statement(&keys, "doc@sshward", b"revision 8", &sig).is_err());
        assert!(verify_statement(&keys, "file", b"revision 7", &sig).is_err());
        assert!(verify_statement(&keys[..1], "doc@sshward", b"revision 7", &sig).is_err());
        assert!(verify_statement(&keys, "doc@sshward", b"revision 7", "!!").is_err());
    }

    #[test]
    fn extensions_round_trip_through_their_names() {
        let some = Extensions {
            pty: true,
            agent_forwarding: false,
            port_forwarding: true,
            x11_forwarding: true,
            user_rc: false,
        };
        assert_eq!(Extensions::from_names(&some.names()).unwrap(), some);
        let none: [&str; 0] = [];
        assert!(Extensions::from_names(&none).unwrap().names().is_empty());
        let err = Extensions::from_names(&["permit-everything"]).unwrap_err();
        assert!(err.to_string().contains("permit-pty"), "{err}");
    }
    use ssh_key::{Certificate, HashAlg};

    fn subject() -> SubjectKey {
        let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
        SubjectKey::new(key.public_key().clone()).unwrap()
    }

    #[test]
    fn signed_fields_are_exactly_the_requested_ones() {
        let ca = CaKey::generate(&mut OsRng).unwrap();
        let key = subject();
        let request = UserCert {
            serial: 77,
            key_id: "sshward:acme:u-1:77".into(),
            principals: vec!["alice".into(), "alice2".into()],
            valid_after: 1_800_000_000,
            valid_before: 1_800_057_600,
            extensions: Extensions::default(),
        };
        let text = ca.sign_user(&mut OsRng, &key, &request).unwrap();
        let cert = Certificate::from_openssh(&text).unwrap();
        assert_eq!(cert.cert_type(), CertType::User);
        assert_eq!(cert.serial(), 77);
        assert_eq!(cert.key_id(), "sshward:acme:u-1:77");
        assert_eq!(cert.valid_principals(), ["alice", "alice2"]);
        assert_eq!(
            (cert.valid_after(), cert.valid_before()),
            (1_800_000_000, 1_800_057_600)
        );
        let names: Vec<&str> = cert.extensions().keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "permit-agent-forwarding",
                "permit-port-forwarding",
                "permit-pty"
            ]
        );
        assert!(cert.critical_options().is_empty());
        assert_eq!(cert.public_key(), key.public_key().key_data());
        // Signed by this CA: it validates against the CA's fingerprint at a time inside
        // the window, and not outside it.
        let fp = ca.public_key().fingerprint(HashAlg::Sha256);
        assert!(cert.validate_at(1_800_000_001, [&fp]).is_ok());
        assert!(cert.validate_at(1_800_057_600, [&fp]).is_err());
        let other = CaKey::generate(&mut OsRng).unwrap().public_key();
        assert!(
            cert.validate_at(1_800_000_001, [&other.fingerprint(HashAlg::Sha256)])
                .is_err()
        );
    }

    #[test]
    fn host_certificates_have_no_extensions() {
        let ca = CaKey::generate(&mut OsRng).unwrap();
        let request = HostCert {
            serial: 1,
            key_id: "sshward:acme:host:web-1:1".into(),
            principals: vec!["web-1".into()],
            valid_after: 0,
            valid_before: 1,
        };
        let cert =
            Certificate::from_openssh(&ca.sign_host(&mut OsRng, &subject(), &request).unwrap())
                .unwrap();
        assert_eq!(cert.cert_type(), CertType::Host);
        assert!(cert.extensions().is_empty());
    }

    #[test]
    fn ca_keys_round_trip_through_their_text() {
        let ca = CaKey::generate(&mut OsRng).unwrap();
        let again = CaKey::from_openssh(&ca.to_openssh().unwrap()).unwrap();
        assert_eq!(again.public_key(), ca.public_key());
        assert!(CaKey::from_openssh("not a key").is_err());
        let line = ca.public_key_line("acme user CA").unwrap();
        assert!(
            line.starts_with("ssh-ed25519 ") && line.ends_with(" acme user CA"),
            "{line}"
        );
    }
}
