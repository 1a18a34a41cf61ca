//! The handlers of the agent API.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use host_policy::{Tag, parse_tags, render};
use proto::JoinRequest;
use serde::Deserialize;
use store::HostRecord;
use web_common::{NoneMatch, bearer_token, blocking, peer_ip};

use crate::cache::Shared;
use crate::certs;
use crate::{AgentState, ApiError};

/// The routes of [`configure`], for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(join, access, principals, sudoers, certs::renew, certs::krl, report))]
pub(crate) struct Doc;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/join", "POST").route(web::post().to(join)))
        .service(resource("/self/access", "GET").route(web::get().to(access)))
        .service(resource("/self/principals", "GET").route(web::get().to(principals)))
        .service(resource("/self/sudoers", "GET").route(web::get().to(sudoers)))
        .service(resource("/self/certificates", "POST").route(web::post().to(certs::renew)))
        .service(resource("/self/krl", "GET").route(web::get().to(certs::krl)))
        .service(resource("/self/status", "POST").route(web::post().to(report)))
        .default_service(web::to(not_found));
}

/// A route that takes `method` and answers the others with 405 (not the scope's 404).
fn resource(path: &str, method: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web_common::method_not_allowed(method))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no agent API endpoint {} {}",
        req.method(),
        req.path()
    )))
}

pub(crate) fn state(req: &HttpRequest) -> Result<web::Data<AgentState>, ApiError> {
    req.app_data::<web::Data<AgentState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("agent API state is not configured".into()))
}

/// Reads a JSON body of at most the configured size; `hint` shows the expected shape.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    state: &AgentState,
    payload: web::Payload,
    hint: &str,
) -> Result<T, ApiError> {
    let limit = state.config.max_body_bytes;
    let body = match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return Err(ApiError::BadRequest(format!(
                "could not read the body: {e}"
            )));
        }
        Err(_) => return Err(ApiError::PayloadTooLarge(limit)),
    };
    serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("{hint}: {e}")))
}

/// Joins a host with a one-time join token; the credential is shown only here.
#[utoipa::path(post, path = "/api/v1/hosts/join", tag = "hosts",
    request_body = proto::JoinRequest,
    security(("join_token" = []), ()),
    responses(
        (status = 201, description = "joined", body = proto::JoinResponse),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn join(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let request: JoinRequest = read_json(
        &state,
        payload,
        "send {\"token\": ..., \"hostname\": ..., \"tags\": [\"key=value\", ...], \"host_keys\": [...]}",
    )
    .await?;
    let token = request
        .token
        .or_else(|| bearer_token(&req))
        .ok_or(ApiError::Unauthorized(
            "send the join token as \"token\" or as a bearer token",
        ))?;
    let requested: BTreeSet<Tag> = parse_tags(&request.tags)?;
    let keys = certs::host_keys(&request.host_keys)?;
    let attempt = state.failures.admit(peer_ip(&req), None, &token)?;
    let app = state.app.clone();
    let joined = blocking(move || {
        Ok::<_, ApiError>(app.join(&token, &request.hostname, &requested, &keys)?)
    })
    .await;
    // A join token is used once: a good one is not remembered.
    if let Err(ApiError::Unauthorized(_)) = &joined {
        attempt.failed();
    }
    let joined = joined?;
    log::info!(
        "host {} (id {}) joined team {}",
        joined.host.hostname,
        joined.host.id,
        joined.host.team
    );
    Ok(HttpResponse::Created().json(joined.response()))
}

/// Authenticates the host credential and returns the host with its team's current
/// revision; records the host's last request at most once a minute.
pub(crate) async fn authenticate(
    state: &AgentState,
    req: &HttpRequest,
) -> Result<(HostRecord, i64), ApiError> {
    let credential = bearer_token(req).ok_or(ApiError::Unauthorized(
        "send the host credential as 'Authorization: Bearer <credential>'",
    ))?;
    let attempt = state.failures.admit(peer_ip(req), None, &credential)?;
    let app = state.app.clone();
    let host = blocking(move || Ok::<_, ApiError>(app.authenticate_host(&credential)?)).await;
    match &host {
        Ok(_) => attempt.succeeded(),
        Err(ApiError::Unauthorized(_)) => attempt.failed(),
        // The database, not the credential, failed.
        Err(_) => {}
    }
    host
}

#[derive(Deserialize)]
struct AccessQuery {
    wait: Option<u64>,
}

/// What a document request comes to.
enum Outcome {
    /// The host has the current document: 304 with this entity tag.
    NotModified(String),
    /// A new document (shared with the hosts that have the same tags) for this host.
    Changed(Arc<Shared>, HostRecord),
}

/// Authenticates, waits (long-poll) while the document is the one the host has, and
/// computes it. While waiting nothing is read for this host: the team's watcher reads the
/// revision for all its waiting hosts (see [`super::revisions::Revisions`]). The host's
/// tags do not change, and removing the host bumps the revision, after which computing
/// the document fails with 401.
async fn document(req: &HttpRequest, wait: Option<u64>) -> Result<Outcome, ApiError> {
    let state = state(req)?;
    let wait = Duration::from_secs(wait.unwrap_or(0)).min(state.config.max_wait);
    let (host, revision) = authenticate(&state, req).await?;
    let etag = |revision| render::etag(revision, &host.tags);
    let held = NoneMatch::of(req);
    let revision = if held.matches(&etag(revision)) {
        match newer_revision(&state, host.team, revision, Instant::now() + wait).await {
            Some(newer) => newer,
            None => return Ok(Outcome::NotModified(etag(revision))),
        }
    } else {
        revision
    };
    let etag = etag(revision);
    let app = state.app.clone();
    let (team, host_id) = (host.team, host.id);
    let shared = state
        .documents
        .get_or_compute(team, &etag, || {
            blocking(move || {
                let computed = app.access_document(team, host_id)?;
                let signer = app.document_signer(team)?;
                Ok(Arc::new(Shared::new(computed)?.signed_by(signer)))
            })
        })
        .await?;
    Ok(Outcome::Changed(shared, host))
}

/// Waits until `team`'s published revision is newer than `revision` (the one the host
/// has), or until `deadline`; the newer revision, or `None` when the wait is over.
pub(crate) async fn newer_revision(
    state: &AgentState,
    team: store::TeamId,
    revision: i64,
    deadline: Instant,
) -> Option<i64> {
    if deadline <= Instant::now() {
        return None;
    }
    let interval = state.config.poll_interval;
    let mut published = state
        .revisions
        .subscribe(&state.app, team, revision, interval);
    loop {
        let now = *published.borrow_and_update();
        if now > revision {
            return Some(now);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match actix_web::rt::time::timeout(left, published.changed()).await {
            Ok(Ok(())) => {}
            // The deadline, or the watcher ended with its worker (at shutdown).
            Ok(Err(_)) | Err(_) => return None,
        }
    }
}

/// `POST /self/status`: what the agent reports about itself (204).
#[utoipa::path(post, path = "/api/v1/hosts/self/status", tag = "hosts",
    request_body = proto::HostReport,
    security(("host_credential" = [])),
    responses(
        (status = 204, description = "recorded"),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn report(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    // The credential first: a request without one is 401, whatever its body.
    let (host, _) = authenticate(&state, &req).await?;
    let report: proto::HostReport = read_json(
        &state,
        payload,
        "send {\"agent_version\": ..., \"applied_revision\": N, \"last_error\": ...}",
    )
    .await?;
    let app = state.app.clone();
    blocking(move || Ok::<_, ApiError>(app.report_host(&host, &report)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// 304 with the current entity tag.
pub(crate) fn not_modified_response(etag: String) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .finish()
}

/// The host's access document; `If-None-Match` and `?wait=SECONDS` long-poll.
#[utoipa::path(get, path = "/api/v1/hosts/self/access", tag = "hosts",
    params(
        ("wait" = Option<u64>, Query, description = "seconds to wait for a change"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag the host has"),
    ),
    security(("host_credential" = [])),
    responses(
        (status = 200, description = "the document, signed in the sshward-signature header",
            body = proto::AccessDocument),
        (status = 304, description = "unchanged"),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn access(
    req: HttpRequest,
    query: web::Query<AccessQuery>,
) -> Result<HttpResponse, ApiError> {
    let (shared, host) = match document(&req, query.wait).await? {
        Outcome::Changed(shared, host) => (shared, host),
        Outcome::NotModified(etag) => return Ok(not_modified_response(etag)),
    };
    let mut response = ok(&shared);
    if let Some(signature) = shared.signature(&host.hostname)? {
        response.insert_header((proto::SIGNATURE_HEADER, signature));
    }
    Ok(response
        .content_type(ContentType::json())
        .body(shared.json_body(&host.hostname)))
}

/// 200 with the document's entity tag, not to be cached by proxies.
fn ok(shared: &Shared) -> HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((header::ETAG, shared.computed.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

fn text(shared: &Shared, body: String) -> HttpResponse {
    ok(shared).content_type(ContentType::plaintext()).body(body)
}

#[derive(Deserialize)]
struct PrincipalsQuery {
    user: Option<String>,
}

/// sshd's `AuthorizedPrincipalsCommand` answer for one local account.
#[utoipa::path(get, path = "/api/v1/hosts/self/principals", tag = "hosts",
    params(("user" = String, Query, description = "the local account")),
    security(("host_credential" = [])),
    responses(
        (status = 200, description = "the account's name if it may log in, else empty",
            body = String, content_type = "text/plain"),
        (status = 304, description = "unchanged"),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn principals(
    req: HttpRequest,
    query: web::Query<PrincipalsQuery>,
) -> Result<HttpResponse, ApiError> {
    // The credential first: a request without one is 401, whatever else is wrong.
    let shared = match document(&req, None).await? {
        Outcome::Changed(shared, _) => shared,
        Outcome::NotModified(etag) => return Ok(not_modified_response(etag)),
    };
    let user = query
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::BadRequest("name the local account: ?user=NAME".into()))?;
    let body = render::principals(&shared.computed.document, &user);
    Ok(text(&shared, body))
}

/// A sudoers file for `/etc/sudoers.d/`.
#[utoipa::path(get, path = "/api/v1/hosts/self/sudoers", tag = "hosts",
    security(("host_credential" = [])),
    responses(
        (status = 200, description = "the sudoers file", body = String, content_type = "text/plain"),
        (status = 304, description = "unchanged"),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn sudoers(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (shared, host) = match document(&req, None).await? {
        Outcome::Changed(shared, host) => (shared, host),
        Outcome::NotModified(etag) => return Ok(not_modified_response(etag)),
    };
    let body = render::sudoers(&shared.computed.document, &host.hostname);
    Ok(text(&shared, body))
}
