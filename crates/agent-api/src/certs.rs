//! The certificate routes of hosts: renewing host certificates, and the team's key
//! revocation list (KRL) for sshd's `RevokedKeys`, with ETags and long polls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, ContentType};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use proto::HostCertificatesRequest;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use ssh_ca::SubjectKey;
use store::TeamId;
use web_common::{NoneMatch, blocking};

use crate::routes::{authenticate, newer_revision, not_modified_response, read_json, state};
use crate::{AgentState, ApiError};

/// A team's revocation list, ready to send.
#[derive(Debug)]
pub struct KrlBody {
    /// The KRL.
    bytes: Bytes,
    /// Its entity tag: a digest of the bytes, so hosts wake only when the list changes,
    /// and every instance gives the same tag for the same list.
    etag: String,
}

impl KrlBody {
    fn new(bytes: Vec<u8>) -> KrlBody {
        let digest = Sha256::digest(&bytes);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        KrlBody {
            bytes: Bytes::from(bytes),
            etag: format!("\"krl-{hex}\""),
        }
    }
}

/// Parses the host keys of a join or renewal; an unusable key is a 400 naming it.
pub(crate) fn host_keys(lines: &[String]) -> Result<Vec<SubjectKey>, ApiError> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            line.parse()
                .map_err(|e| ApiError::BadRequest(format!("host_keys[{i}]: {e}")))
        })
        .collect()
}

/// `POST /self/certificates`: new host certificates for the keys sent.
#[utoipa::path(post, path = "/api/v1/hosts/self/certificates", tag = "hosts",
    request_body = proto::HostCertificatesRequest,
    security(("host_credential" = [])),
    responses(
        (status = 200, description = "the certificates", body = proto::HostCertificatesResponse),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
pub(crate) async fn renew(
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    // The credential first: a request without one is 401, whatever its body.
    let (host, _) = authenticate(&state, &req).await?;
    let request: HostCertificatesRequest = read_json(
        &state,
        payload,
        "send {\"host_keys\": [\"ssh-ed25519 AAAA...\", ...]}",
    )
    .await?;
    let keys = host_keys(&request.host_keys)?;
    if keys.is_empty() {
        return Err(ApiError::BadRequest(
            "send at least one host key in \"host_keys\"".into(),
        ));
    }
    let app = state.app.clone();
    let answer = blocking(move || Ok::<_, ApiError>(app.host_certificates(&host, &keys)?)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

#[derive(Deserialize)]
pub(crate) struct KrlQuery {
    wait: Option<u64>,
}

/// `GET /self/krl`: the team's revocation list. With `If-None-Match` naming the current
/// list and `?wait=N`, waits until the list changes (checking the team revision every
/// poll interval by the team's watcher, as for the access long-polls) or answers 304.
#[utoipa::path(get, path = "/api/v1/hosts/self/krl", tag = "hosts",
    params(
        ("wait" = Option<u64>, Query, description = "seconds to wait for a change"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag the host has"),
    ),
    security(("host_credential" = [])),
    responses(
        (status = 200, description = "the OpenSSH KRL", body = Vec<u8>,
            content_type = "application/octet-stream"),
        (status = 304, description = "unchanged"),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
pub(crate) async fn krl(
    req: HttpRequest,
    query: web::Query<KrlQuery>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let wait = Duration::from_secs(query.wait.unwrap_or(0)).min(state.config.max_wait);
    let deadline = Instant::now() + wait;
    let (host, mut revision) = authenticate(&state, &req).await?;
    let held = NoneMatch::of(&req);
    let mut body = list_at(&state, host.team, revision).await?;
    loop {
        if !held.matches(&body.etag) {
            return Ok(HttpResponse::Ok()
                .insert_header((header::ETAG, body.etag.clone()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .content_type(ContentType::octet_stream())
                .body(body.bytes.clone()));
        }
        match newer_revision(&state, host.team, revision, deadline).await {
            Some(newer) => {
                revision = newer;
                body = list_at(&state, host.team, revision).await?;
            }
            None => return Ok(not_modified_response(body.etag.clone())),
        }
    }
}

/// The revocation list of `team` as of `revision`, computed once for all hosts.
async fn list_at(
    state: &AgentState,
    team: TeamId,
    revision: i64,
) -> Result<Arc<KrlBody>, ApiError> {
    let app = state.app.clone();
    state
        .krls
        .get_or_compute(team, &revision.to_string(), || {
            blocking(move || {
                let list = app.revocation_list(team)?;
                Ok::<_, ApiError>(Arc::new(KrlBody::new(list.bytes)))
            })
        })
        .await
}
