//! Bearer tokens verified in the last two seconds, so that a burst of read requests from
//! Entra (its match queries) costs one primary-key lookup instead of a verification each.
//!
//! Entries are keyed by the team slug and the SHA-256 of the secret (the secret itself is
//! not kept), hold only successful verifications, and expire after [`TTL`]. Only reads use
//! them, and only after a primary-key lookup confirms that the token is still neither
//! revoked nor expired: a revoked token is refused by every instance from the moment the
//! revocation commits. What the cache saves is the verification itself (the team by slug,
//! the team's live tokens, the constant-time comparison).

use crate::context::Caller;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long a verification is trusted.
pub(crate) const TTL: Duration = Duration::from_secs(2);
/// Most entries kept; past this the cache starts afresh.
const CAPACITY: usize = 4096;

/// A cache key: team slug and the digest of the presented secret.
pub(crate) type Key = (String, [u8; 32]);

/// Recently verified callers.
#[derive(Debug, Default)]
pub(crate) struct AuthCache {
    entries: Mutex<HashMap<Key, (Caller, Instant)>>,
}

impl AuthCache {
    /// The key of `secret` presented for team `slug`.
    pub(crate) fn key(slug: &str, secret: &str) -> Key {
        (slug.to_string(), Sha256::digest(secret.as_bytes()).into())
    }

    /// The caller verified for `key` less than [`TTL`] ago.
    pub(crate) fn get(&self, key: &Key) -> Option<Caller> {
        let entries = self.entries.lock().ok()?;
        let (caller, at) = entries.get(key)?;
        (at.elapsed() < TTL).then(|| caller.clone())
    }

    /// Remembers a successful verification.
    pub(crate) fn put(&self, key: Key, caller: Caller) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.retain(|_, (_, at)| at.elapsed() < TTL);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key, (caller, Instant::now()));
        }
    }

    /// Notes that the token's use was recorded at `at`, so the cached copy does not ask
    /// for another write.
    pub(crate) fn touched(&self, key: &Key, at: OffsetDateTime) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some((caller, _)) = entries.get_mut(key)
        {
            caller.token.last_used = Some(at);
        }
    }
}
