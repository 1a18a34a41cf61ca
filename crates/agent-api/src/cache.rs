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
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use sha2::{Digest, Sha256};
use store::TeamId;
use tokio::sync::OnceCell;

use app::Computed;
use ssh_ca::CaKey;

use crate::ApiError;

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
    /// Lower-case hex SHA-256 of `json_tail` (what each host's signature covers).
    tail_sha256: String,
    /// The team's document-signing key, when set.
    signer: Option<Arc<CaKey>>,
}

impl Shared {
    /// Serialises the host-independent part of `computed`'s JSON.
    pub fn new(computed: Computed) -> Result<Self, ApiError> {
        let json = |e: serde_json::Error| ApiError::Internal(format!("access document: {e}"));
        let mut tail = Vec::with_capacity(256 * computed.document.users.len() + 64);
        tail.extend_from_slice(b"\"users\":");
        serde_json::to_writer(&mut tail, &computed.document.users).map_err(json)?;
        tail.extend_from_slice(b",\"groups\":");
        serde_json::to_writer(&mut tail, &computed.document.groups).map_err(json)?;
        tail.push(b'}');
        let digest = Sha256::digest(&tail);
        Ok(Shared {
            computed,
            tail_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            json_tail: Bytes::from(tail),
            signer: None,
        })
    }

    /// The same, signing with `signer`.
    pub fn signed_by(mut self, signer: Arc<CaKey>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The signature of `hostname`'s document (the value of
    /// [`proto::SIGNATURE_HEADER`]), if a signer is set.
    pub fn signature(&self, hostname: &str) -> Result<Option<String>, ApiError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let statement = self.statement(hostname);
        signer
            .sign_statement(proto::SIGNATURE_NAMESPACE, statement.as_bytes())
            .map(Some)
            .map_err(|e| ApiError::Internal(format!("signing the access document: {e}")))
    }

    /// The statement the signature of `hostname`'s document covers
    /// ([`proto::signed_statement`]).
    pub fn statement(&self, hostname: &str) -> String {
        proto::signed_statement(hostname, self.computed.document.revision, &self.tail_sha256)
    }

    /// The JSON access document of host `hostname`:
    /// `{"revision":..,"hostname":..,"users":[..],"groups":[..]}`.
    pub fn json_body(&self, hostname: &str) -> JsonBody {
        let head = proto::json_head(self.computed.document.revision, hostname);
        JsonBody {
            head: Some(Bytes::from(head)),
            tail: self.json_tail.clone(),
        }
    }
}

/// A response body of a per-host head and the shared tail, sent without joining them, the
/// tail in slices of [`crate::RESPONSE_CHUNK`].
#[derive(Debug)]
pub struct JsonBody {
    head: Option<Bytes>,
    tail: Bytes,
}

impl MessageBody for JsonBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        let head = self.head.as_ref().map_or(0, Bytes::len);
        BodySize::Sized((head + self.tail.len()) as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if let Some(head) = this.head.take() {
            return Poll::Ready(Some(Ok(head)));
        }
        if this.tail.is_empty() {
            return Poll::Ready(None);
        }
        let piece = this
            .tail
            .split_to(crate::RESPONSE_CHUNK.min(this.tail.len()));
        Poll::Ready(Some(Ok(piece)))
    }
}

/// A value being computed or computed, for one team and key.
type Slot<T> = Arc<OnceCell<Arc<T>>>;

/// Values computed once per team and key (access documents by entity tag, revocation
/// lists by team revision).
#[derive(Debug)]
pub struct DocumentCache<T = Shared> {
    entries: Mutex<HashMap<(TeamId, String), Slot<T>>>,
}

impl<T> Default for DocumentCache<T> {
    fn default() -> Self {
        DocumentCache {
            entries: Mutex::default(),
        }
    }
}

impl<T> DocumentCache<T> {
    /// The document of `team` at `etag`: the cached one, or the one `compute` makes. While
    /// it is computed, the other requests for it wait without holding a thread (a fleet
    /// asking at once after a change costs one computation, and the blocking pool stays
    /// free for SCIM); if `compute` fails, the next request tries again.
    pub async fn get_or_compute<F, Fut>(
        &self,
        team: TeamId,
        etag: &str,
        compute: F,
    ) -> Result<Arc<T>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<T>, ApiError>>,
    {
        let slot = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.entry((team, etag.to_owned())).or_default().clone()
        };
        slot.get_or_try_init(compute).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body;
    use proto::AccessDocument;

    fn shared(etag: &str, hostname: &str) -> Arc<Shared> {
        let computed = Computed {
            etag: etag.into(),
            document: AccessDocument {
                revision: 7,
                hostname: hostname.into(),
                users: Vec::new(),
                groups: Vec::new(),
            },
        };
        Arc::new(Shared::new(computed).unwrap())
    }

    #[actix_rt::test]
    async fn one_computation_per_document_however_many_ask() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = Arc::new(DocumentCache::<Shared>::default());
        let computations = Arc::new(AtomicUsize::new(0));
        let ask = |team: i64, etag: &'static str| {
            let (cache, computations) = (cache.clone(), computations.clone());
            actix_web::rt::spawn(async move {
                let compute = || async move {
                    computations.fetch_add(1, Ordering::SeqCst);
                    // The other requests arrive while this one computes.
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
                    Ok(shared(etag, "web-1"))
                };
                cache.get_or_compute(TeamId(team), etag, compute).await
            })
        };
        let asks: Vec<_> = (0..8).map(|_| ask(1, "\"r7-abc\"")).collect();
        for asked in asks {
            assert_eq!(asked.await.unwrap().unwrap().computed.document.revision, 7);
        }
        assert_eq!(computations.load(Ordering::SeqCst), 1);

        // Another revision or team is another document.
        ask(1, "\"r8-abc\"").await.unwrap().unwrap();
        ask(2, "\"r7-abc\"").await.unwrap().unwrap();
        assert_eq!(computations.load(Ordering::SeqCst), 3);
    }

    #[actix_rt::test]
    async fn a_failed_computation_is_tried_again() {
        let cache = DocumentCache::<Shared>::default();
        let failed = cache
            .get_or_compute(TeamId(1), "\"r1\"", || async {
                Err(ApiError::Internal("database away".into()))
            })
            .await;
        assert!(failed.is_err());
        let again = cache
            .get_or_compute(TeamId(1), "\"r1\"", || async { Ok(shared("\"r1\"", "h")) })
            .await;
        assert!(again.is_ok());
    }

    #[actix_rt::test]
    async fn each_host_gets_the_shared_json_under_its_own_name() {
        let doc = shared("\"r7-abc\"", "web-1");
        let body = doc.json_body("web-2");
        let size = body.size();
        let bytes = body::to_bytes(body).await.unwrap();
        assert_eq!(size, BodySize::Sized(bytes.len() as u64));
        // The bytes are the wire type's JSON, with the asking host's name.
        let sent: AccessDocument = serde_json::from_slice(&bytes).unwrap();
        let expected = AccessDocument {
            hostname: "web-2".into(),
            ..doc.computed.document.clone()
        };
        assert_eq!(sent, expected);
        assert_eq!(bytes, serde_json::to_vec(&expected).unwrap());
    }

    #[actix_rt::test]
    async fn a_large_body_goes_out_in_slices_of_one_chunk() {
        let tail: Vec<u8> = (0..crate::RESPONSE_CHUNK * 3 + 17)
            .map(|i| i as u8)
            .collect();
        let mut body = JsonBody {
            head: Some(Bytes::from_static(b"{\"revision\":1,")),
            tail: Bytes::from(tail.clone()),
        };
        let mut pieces = Vec::new();
        while let Some(piece) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await {
            pieces.push(piece.unwrap());
        }
        let sizes: Vec<usize> = pieces.iter().map(Bytes::len).collect();
        let chunk = crate::RESPONSE_CHUNK;
        assert_eq!(sizes, [14, chunk, chunk, chunk, 17]);
        assert_eq!(pieces[1..].concat(), tail);
    }

    #[actix_rt::test]
    async fn a_full_cache_starts_afresh() {
        let cache = DocumentCache::<Shared>::default();
        for i in 0..CAPACITY {
            let etag = format!("\"r{i}\"");
            cache
                .get_or_compute(TeamId(1), &etag, || async { Ok(shared("\"r\"", "h")) })
                .await
                .unwrap();
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CAPACITY);
        cache
            .get_or_compute(TeamId(1), "\"new\"", || async {
                Ok(shared("\"new\"", "h"))
            })
            .await
            .unwrap();
        assert_eq!(cache.entries.lock().unwrap().len(), 1);
    }
}
