//! Access documents computed once per team revision and tag set, shared by every host
//! that has the same tags.
//!
//! A document depends only on the team's directory, grants and POSIX identities (all
//! covered by the team revision) and on the host's tags, which is exactly what the entity
//! tag names; only the `hostname` differs between hosts. A fleet of a thousand web servers
//! therefore costs one computation per change in the team, not a thousand.

use super::service::Computed;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use store::TeamId;

/// Most documents kept; past this the cache starts afresh (documents of old revisions
/// are never asked for again, so nothing of value is lost).
const CAPACITY: usize = 256;

/// Computed documents by team and entity tag.
#[derive(Debug, Default)]
pub struct DocumentCache {
    entries: Mutex<HashMap<(TeamId, String), Arc<Computed>>>,
    computing: Mutex<()>,
}

impl DocumentCache {
    /// Held while a document is computed, so that concurrent requests for the same
    /// document wait for it instead of computing it too.
    pub fn computing(&self) -> MutexGuard<'_, ()> {
        self.computing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The document computed for `team` at `etag`, with `hostname` filled in.
    pub fn get(&self, team: TeamId, etag: &str, hostname: &str) -> Option<Computed> {
        let entries = self.entries.lock().ok()?;
        let shared = entries.get(&(team, etag.to_string()))?;
        let mut computed = Computed::clone(shared);
        computed.document.hostname = hostname.to_string();
        Some(computed)
    }

    /// Keeps `computed` (a document of `team`) for the other hosts with the same tags.
    pub fn put(&self, team: TeamId, computed: &Computed) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert((team, computed.etag.clone()), Arc::new(computed.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessDocument;

    fn computed(etag: &str, hostname: &str) -> Computed {
        Computed {
            etag: etag.into(),
            revision: 7,
            document: AccessDocument {
                hostname: hostname.into(),
                users: Vec::new(),
                groups: Vec::new(),
            },
        }
    }

    #[test]
    fn hosts_with_the_same_tags_share_a_document_under_their_own_name() {
        let cache = DocumentCache::default();
        cache.put(TeamId(1), &computed("\"r7-abc\"", "web-1"));
        let hit = cache.get(TeamId(1), "\"r7-abc\"", "web-2").unwrap();
        assert_eq!(hit.document.hostname, "web-2");
        assert_eq!(hit.revision, 7);
        assert!(
            cache.get(TeamId(1), "\"r8-abc\"", "web-2").is_none(),
            "other revision"
        );
        assert!(
            cache.get(TeamId(2), "\"r7-abc\"", "web-2").is_none(),
            "other team"
        );
    }

    #[test]
    fn a_full_cache_starts_afresh() {
        let cache = DocumentCache::default();
        for i in 0..CAPACITY {
            cache.put(TeamId(1), &computed(&format!("\"r{i}\""), "h"));
        }
        cache.put(TeamId(1), &computed("\"new\"", "h"));
        assert!(cache.get(TeamId(1), "\"r0\"", "h").is_none());
        assert!(cache.get(TeamId(1), "\"new\"", "h").is_some());
    }
}
