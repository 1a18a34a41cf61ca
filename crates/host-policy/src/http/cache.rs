//! Access documents computed once per team revision and tag set, shared by every host
//! that has the same tags, and kept ready to send.
//!
//! A document depends only on the team's directory, grants and POSIX identities (all
//! covered by the team revision) and on the host's tags, which is exactly what the entity
//! tag names; only the `hostname` differs between hosts. A fleet of a thousand web servers
//! therefore costs one computation per change in the team, not a thousand, and each
//! request only writes its own hostname in front of the shared JSON (no copy of the
//! document per request: a 10,000-user document is about 2 MB).

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use store::TeamId;

use super::AgentError;
use super::service::Computed;

/// Most documents kept; past this the cache starts afresh (documents of old revisions
/// are never asked for again, so nothing of value is lost).
const CAPACITY: usize = 256;

/// A computed document with its JSON users and groups serialised once.
#[derive(Debug)]
pub struct Shared {
    /// The document, as computed for the first host that asked (its `hostname` is that
    /// host's: callers name their own host).
    pub computed: Computed,
    /// `"users":[...],"groups":[...]}`: the JSON body after the host-specific head.
    json_tail: Bytes,
}

impl Shared {
    /// Serialises the host-independent part of `computed`'s JSON.
    pub fn new(computed: Computed) -> Result<Self, AgentError> {
        let json = |e: serde_json::Error| AgentError::Internal(format!("access document: {e}"));
        let mut tail = Vec::with_capacity(256 * computed.document.users.len() + 64);
        tail.extend_from_slice(b"\"users\":");
        serde_json::to_writer(&mut tail, &computed.document.users).map_err(json)?;
        tail.extend_from_slice(b",\"groups\":");
        serde_json::to_writer(&mut tail, &computed.document.groups).map_err(json)?;
        tail.push(b'}');
        Ok(Shared {
            computed,
            json_tail: Bytes::from(tail),
        })
    }

    /// The JSON access document of host `hostname`:
    /// `{"revision":..,"hostname":..,"users":[..],"groups":[..]}`.
    pub fn json_body(&self, hostname: &str) -> JsonBody {
        let mut head = format!("{{\"revision\":{},\"hostname\":", self.computed.revision);
        // A hostname is normalised to letters, digits, '-' and '.', but quote it properly
        // all the same.
        head.push_str(&serde_json::Value::from(hostname).to_string());
        head.push(',');
        JsonBody {
            head: Some(Bytes::from(head)),
            tail: Some(self.json_tail.clone()),
        }
    }
}

/// A response body of a per-host head and the shared tail, sent without joining them.
#[derive(Debug)]
pub struct JsonBody {
    head: Option<Bytes>,
    tail: Option<Bytes>,
}

impl MessageBody for JsonBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, Bytes::len) as u64;
        BodySize::Sized(len(&self.head) + len(&self.tail))
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        Poll::Ready(this.head.take().or_else(|| this.tail.take()).map(Ok))
    }
}

/// Computed documents by team and entity tag.
#[derive(Debug, Default)]
pub struct DocumentCache {
    entries: Mutex<HashMap<(TeamId, String), Arc<Shared>>>,
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

    /// The document computed for `team` at `etag`.
    pub fn get(&self, team: TeamId, etag: &str) -> Option<Arc<Shared>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&(team, etag.to_string())).cloned()
    }

    /// Keeps `shared` (a document of `team`) for the other hosts with the same tags.
    pub fn put(&self, team: TeamId, shared: Arc<Shared>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert((team, shared.computed.etag.clone()), shared);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessDocument;
    use actix_web::body;

    fn shared(etag: &str, hostname: &str) -> Arc<Shared> {
        let computed = Computed {
            etag: etag.into(),
            revision: 7,
            document: AccessDocument {
                hostname: hostname.into(),
                users: Vec::new(),
                groups: Vec::new(),
            },
        };
        Arc::new(Shared::new(computed).unwrap())
    }

    #[test]
    fn hosts_with_the_same_tags_share_a_document() {
        let cache = DocumentCache::default();
        cache.put(TeamId(1), shared("\"r7-abc\"", "web-1"));
        let hit = cache.get(TeamId(1), "\"r7-abc\"").unwrap();
        assert_eq!(hit.computed.revision, 7);
        assert!(
            cache.get(TeamId(1), "\"r8-abc\"").is_none(),
            "other revision"
        );
        assert!(cache.get(TeamId(2), "\"r7-abc\"").is_none(), "other team");
    }

    #[actix_rt::test]
    async fn each_host_gets_the_shared_json_under_its_own_name() {
        let doc = shared("\"r7-abc\"", "web-1");
        let body = doc.json_body("web-2");
        let size = body.size();
        let bytes = body::to_bytes(body).await.unwrap();
        assert_eq!(size, BodySize::Sized(bytes.len() as u64));
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"revision": 7, "hostname": "web-2", "users": [], "groups": []})
        );
    }

    #[test]
    fn a_full_cache_starts_afresh() {
        let cache = DocumentCache::default();
        for i in 0..CAPACITY {
            cache.put(TeamId(1), shared(&format!("\"r{i}\""), "h"));
        }
        cache.put(TeamId(1), shared("\"new\"", "h"));
        assert!(cache.get(TeamId(1), "\"r0\"").is_none());
        assert!(cache.get(TeamId(1), "\"new\"").is_some());
    }
}
