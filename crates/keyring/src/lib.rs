//! sshward's key-encryption key (KEK): the one secret outside the database that protects
//! the secrets inside it (each team's SSH CA private keys, the keys that sign sign-in
//! sessions and access tokens). A copy of the database alone signs nothing.
//!
//! A sealed value is text, `v1.<kek id>.<base64 of nonce ‖ ciphertext ‖ tag>`, encrypted
//! with AES-256-GCM under a random 96-bit nonce. Each value is bound to its *purpose*
//! (authenticated, not stored): a CA key sealed for team 3's user CA does not open as team
//! 4's, so rows cannot be swapped between teams or uses. The KEK id (a digest of the key)
//! in every sealed value lets an instance with the wrong key say so instead of failing
//! with a bare "decryption failed".
//!
//! ```
//! use keyring::Kek;
//!
//! let kek = Kek::generate().unwrap();
//! let sealed = kek.seal("ca-key/team-1/user", b"secret");
//! assert!(sealed.starts_with(&format!("v1.{}.", kek.id())));
//! assert_eq!(kek.open("ca-key/team-1/user", &sealed).unwrap(), b"secret");
//! assert!(kek.open("ca-key/team-2/user", &sealed).is_err());
//! ```

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Bytes in a key-encryption key.
pub const KEY_BYTES: usize = 32;
/// Bytes in a nonce.
const NONCE_BYTES: usize = 12;
/// The version prefix of sealed values.
const VERSION: &str = "v1";

/// Why a key could not be loaded or a value not opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// The key material is not a key (the message says why).
    #[error("{0}")]
    InvalidKey(String),
    /// A sealed value that is not in the sealed format.
    #[error("not a sealed value ({0})")]
    Malformed(&'static str),
    /// Sealed with another key-encryption key.
    #[error(
        "sealed with key-encryption key {sealed_with}, but the configured key is {configured}: \
         configure the key this database was set up with"
    )]
    WrongKey {
        /// The id in the sealed value.
        sealed_with: String,
        /// The id of the configured key.
        configured: String,
    },
    /// The right key id, but the value does not open: tampered with, or sealed for
    /// another purpose.
    #[error("the sealed value does not open for {0} (altered, or moved from another row)")]
    Tampered(String),
    /// Reading or writing the key file failed.
    #[error("{0}")]
    Io(String),
}

/// A key-encryption key. Cheap to clone; never printed.
#[derive(Clone)]
pub struct Kek(Arc<Inner>);

struct Inner {
    cipher: Aes256Gcm,
    id: String,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek").field("id", &self.0.id).finish()
    }
}

impl Kek {
    /// A key from exactly [`KEY_BYTES`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Kek, KeyringError> {
        if bytes.len() != KEY_BYTES {
            return Err(KeyringError::InvalidKey(format!(
                "a key-encryption key is {KEY_BYTES} bytes, this one has {}",
                bytes.len()
            )));
        }
        if bytes.iter().all(|&b| b == bytes[0]) {
            return Err(KeyringError::InvalidKey(
                "the key-encryption key is one byte repeated; use random bytes".into(),
            ));
        }
        let cipher = Aes256Gcm::new_from_slice(bytes)
            .map_err(|e| KeyringError::InvalidKey(e.to_string()))?;
        let digest = Sha256::new()
            .chain_update(b"sshward key-encryption key id\0")
            .chain_update(bytes)
            .finalize();
        let id = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Kek(Arc::new(Inner { cipher, id })))
    }

    /// A key from its text form: base64 of [`KEY_BYTES`] random bytes (surrounding white
    /// space ignored), as `head -c 32 /dev/urandom | base64` prints it.
    pub fn from_text(text: &str) -> Result<Kek, KeyringError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|e| {
            KeyringError::InvalidKey(format!(
                "a key-encryption key is base64 of {KEY_BYTES} random bytes \
                 (head -c {KEY_BYTES} /dev/urandom | base64): {e}"
            ))
        })?;
        Kek::from_bytes(&bytes)
    }

    /// A fresh random key.
    pub fn generate() -> Result<Kek, KeyringError> {
        Kek::from_bytes(&random::<KEY_BYTES>()?)
    }

    /// The key in the file at `path`, created (mode 0600, never overwritten) with a fresh
    /// key when there is none. Returns the key and whether this call created the file.
    pub fn load_or_create(path: &Path) -> Result<(Kek, bool), KeyringError> {
        let io = |what: &str, e: std::io::Error| {
            KeyringError::Io(format!("{what} {}: {e}", path.display()))
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                let bytes = random::<KEY_BYTES>()?;
                let text = format!("{}\n", STANDARD.encode(bytes));
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io("cannot write", e))?;
                Ok((Kek::from_bytes(&bytes)?, true))
            }
            // Made earlier (or by another process just now): use it.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|e| io("cannot read", e))?;
                let kek = Kek::from_text(&text)
                    .map_err(|e| KeyringError::InvalidKey(format!("{}: {e}", path.display())))?;
                Ok((kek, false))
            }
            Err(e) => Err(io("cannot create", e)),
        }
    }

    /// The key's id: 12 hex digits of a digest, safe to log and print.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// `plaintext` sealed for `purpose` (a name for the row and use, such as
    /// `ca-key/team-3/user`; it must be given again to open the value).
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let nonce = match random::<NONCE_BYTES>() {
            Ok(n) => n,
            // The OS random source does not fail on the systems sshward runs on; if it
            // ever does, a nonce from the clock and a counter is still unique.
            Err(_) => fallback_nonce(),
        };
        let payload = Payload {
            msg: plaintext,
            aad: purpose.as_bytes(),
        };
        // AES-GCM encryption fails only for messages of more than 64 GiB.
        let ciphertext = self
            .0
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        format!("{VERSION}.{}.{}", self.0.id, STANDARD.encode(out))
    }

    /// Opens a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, KeyringError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(version), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyringError::Malformed("expected v1.<key id>.<data>"));
        };
        if version != VERSION {
            return Err(KeyringError::Malformed("unknown version"));
        }
        if id != self.0.id {
            return Err(KeyringError::WrongKey {
                sealed_with: id.to_owned(),
                configured: self.0.id.clone(),
            });
        }
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| KeyringError::Malformed("the data is not base64"))?;
        if bytes.len() < NONCE_BYTES + 16 {
            return Err(KeyringError::Malformed("too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: purpose.as_bytes(),
        };
        self.0
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| KeyringError::Tampered(purpose.to_owned()))
    }

    /// True when `value` is in the sealed format (by any key), so that values stored in
    /// clear by an earlier version can be told apart and sealed.
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with("v1.") && value.splitn(3, '.').count() == 3
    }
}

fn random<const N: usize>() -> Result<[u8; N], KeyringError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| KeyringError::Io(format!("random source: {e}")))?;
    Ok(bytes)
}

/// A unique nonce without the random source: the time in nanoseconds and a counter.
fn fallback_nonce() -> [u8; NONCE_BYTES] {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut nonce = [0u8; NONCE_BYTES];
    nonce[..8].copy_from_slice(&nanos.to_be_bytes());
    nonce[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    nonce
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(seed: u8) -> Kek {
        let mut bytes = [seed; KEY_BYTES];
        bytes[0] ^= 0x55;
        Kek::from_bytes(&bytes).unwrap()
    }

    #[test]
    fn seals_and_opens_with_a_fresh_nonce_each_time() {
        let k = kek(1);
        let a = k.seal("p", b"hello");
        let b = k.seal("p", b"hello");
        assert_ne!(a, b, "a fresh nonce per value");
        assert_eq!(k.open("p", &a).unwrap(), b"hello");
        assert_eq!(k.open("p", &b).unwrap(), b"hello");
        assert!(Kek::is_sealed(&a));
        assert!(!Kek::is_sealed("c2VjcmV0"));
    }

    #[test]
    fn a_value_opens_only_for_its_purpose_and_key() {
        let (k, other) = (kek(1), kek(2));
        let sealed = k.seal("ca-key/team-1/user", b"x");
        assert_eq!(
            k.open("ca-key/team-2/user", &sealed),
            Err(KeyringError::Tampered("ca-key/team-2/user".into()))
        );
        let err = other.open("ca-key/team-1/user", &sealed).unwrap_err();
        assert!(
            matches!(&err, KeyringError::WrongKey { sealed_with, configured }
                if sealed_with == k.id() && configured == other.id()),
            "{err}"
        );
        // One flipped bit of the ciphertext.
        let mut bytes = STANDARD.decode(sealed.rsplit('.').next().unwrap()).unwrap();
        bytes[NONCE_BYTES] ^= 1;
        let flipped = format!("v1.{}.{}", k.id(), STANDARD.encode(bytes));
        assert!(matches!(
            k.open("ca-key/team-1/user", &flipped),
            Err(KeyringError::Tampered(_))
        ));
        for bad in ["", "v1", "v2.x.y", &format!("v1.{}.!!", k.id())] {
            assert!(
                matches!(k.open("p", bad), Err(KeyringError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keys_are_32_random_bytes() {
        assert!(Kek::from_bytes(&[1u8; 16]).is_err());
        assert!(Kek::from_bytes(&[0u8; 32]).is_err(), "all one byte");
        assert!(Kek::from_text("not base64!").is_err());
        let k = Kek::generate().unwrap();
        assert_eq!(k.id().len(), 12);
        assert!(!format!("{k:?}").contains("cipher"));
        let text = STANDARD.encode([
            9u8, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8,
            9, 0, 1, 2,
        ]);
        assert!(Kek::from_text(&format!("  {text}\n")).is_ok());
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        let (first, created) = Kek::load_or_create(&path).unwrap();
        assert!(created);
        let (again, created) = Kek::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "garbage").unwrap();
        let err = Kek::load_or_create(&path).unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}
