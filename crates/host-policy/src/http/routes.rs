//! The handlers of the agent API.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;
use store::HostRecord;
use time::OffsetDateTime;

use super::cache::{DocumentCache, Shared};
use super::revisions::Revisions;
use super::service;
use super::{AgentError, AgentState};
use crate::{Tag, parse_tags, render};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/join", web::post().to(join))
        .route("/self/access", web::get().to(access))
        .route("/self/principals", web::get().to(principals))
        .route("/self/sudoers", web::get().to(sudoers))
        .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AgentError> {
    Err(AgentError::NotFound(format!(
        "no agent API endpoint {} {}",
        req.method(),
        req.path()
    )))
}

fn state(req: &HttpRequest) -> Result<web::Data<AgentState>, AgentError> {
    req.app_data::<web::Data<AgentState>>()
        .cloned()
        .ok_or_else(|| AgentError::Internal("agent API state is not configured".into()))
}

/// The bearer token of the `Authorization` header, if any.
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// Runs blocking store work on actix's blocking pool.
async fn blocking<T, F>(f: F) -> Result<T, AgentError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AgentError> + Send + 'static,
{
    web::block(f)
        .await
        .map_err(|e| AgentError::Internal(e.to_string()))?
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinRequest {
    token: Option<String>,
    hostname: String,
    #[serde(default)]
    tags: Vec<String>,
}

async fn join(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, AgentError> {
    let state = state(&req)?;
    let limit = state.config.max_body_bytes;
    let body = match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return Err(AgentError::BadRequest(format!(
                "could not read the body: {e}"
            )));
        }
        Err(_) => return Err(AgentError::PayloadTooLarge(limit)),
    };
    let request: JoinRequest = serde_json::from_slice(&body).map_err(|e| {
        AgentError::BadRequest(format!(
            "send {{\"token\": ..., \"hostname\": ..., \"tags\": [\"key=value\", ...]}}: {e}"
        ))
    })?;
    let token = request
        .token
        .or_else(|| bearer(&req))
        .ok_or(AgentError::Unauthorized(
            "send the join token as \"token\" or as a bearer token",
        ))?;
    let requested: BTreeSet<Tag> = parse_tags(&request.tags)?;
    let store = state.store.clone();
    let joined =
        blocking(move || service::join(&store, &token, &request.hostname, &requested)).await?;
    log::info!(
        "host {} (id {}) joined team {}",
        joined.host.hostname,
        joined.host.id,
        joined.host.team
    );
    let tags: Vec<String> = joined
        .host
        .tags
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Ok(HttpResponse::Created().json(serde_json::json!({
        "host_id": joined.host.id,
        "hostname": joined.host.hostname,
        "tags": tags,
        "credential": joined.credential,
    })))
}

/// Authenticates the host credential and returns the host with its current entity tag;
/// records the host's last request at most once a minute.
async fn authenticate(
    state: &AgentState,
    req: &HttpRequest,
) -> Result<(HostRecord, String), AgentError> {
    let credential = bearer(req).ok_or(AgentError::Unauthorized(
        "send the host credential as 'Authorization: Bearer <credential>'",
    ))?;
    let store = state.store.clone();
    blocking(move || {
        let (host, etag) = store.read(|tx| {
            let host = tx
                .hosts()
                .authenticate(&credential)?
                .ok_or(AgentError::Unauthorized(
                    "the host credential is not valid (wrong, or the host was removed)",
                ))?;
            let etag = service::current_etag(tx, &host)?;
            Ok::<_, AgentError>((host, etag))
        })?;
        let now = OffsetDateTime::now_utc();
        if store::Hosts::needs_touch(&host, now)
            && let Err(e) = store.write(|tx| tx.hosts().touch_seen(host.id, now))
        {
            log::warn!("could not record the last request of host {}: {e}", host.id);
        }
        Ok((host, etag))
    })
    .await
}

/// True if the request's `If-None-Match` names `etag` (weak comparison, lists and `*`).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    let Some(value) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let bare = |t: &str| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned()
    };
    value
        .split(',')
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(etag))
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
/// computes it. While waiting only the team revision is read, once per poll interval for
/// all the waiting hosts of the team (see [`Revisions`]): the host's tags do not change,
/// and removing the host bumps the revision, after which computing the document fails
/// with 401.
async fn document(req: &HttpRequest, wait: Option<u64>) -> Result<Outcome, AgentError> {
    let state = state(req)?;
    let wait = Duration::from_secs(wait.unwrap_or(0)).min(state.config.max_wait);
    let deadline = Instant::now() + wait;
    let (host, mut etag) = authenticate(&state, req).await?;
    let tags = service::tags_of(&host.tags)?;
    let revisions = req
        .app_data::<web::Data<Revisions>>()
        .cloned()
        .ok_or_else(|| AgentError::Internal("agent API revisions are not configured".into()))?;
    let interval = state.config.poll_interval;
    while not_modified(req, &etag) {
        if Instant::now() + interval > deadline {
            return Ok(Outcome::NotModified(etag));
        }
        actix_web::rt::time::sleep(interval).await;
        let team = host.team;
        let revision = match revisions.fresh(team, interval) {
            Some(revision) => revision,
            None => {
                let (store, revisions) = (state.store.clone(), revisions.clone());
                blocking(move || revisions.current(&store, team, interval)).await?
            }
        };
        etag = render::etag(revision, &tags);
    }
    let cache = req.app_data::<web::Data<DocumentCache>>().cloned();
    let store = state.store.clone();
    let (team, host_id) = (host.team, host.id);
    let shared = blocking(move || {
        let compute = || {
            let computed = service::access_document(&store, team, host_id)?;
            Ok::<_, AgentError>(Arc::new(Shared::new(computed)?))
        };
        let Some(cache) = cache else {
            return compute();
        };
        if let Some(hit) = cache.get(team, &etag) {
            return Ok(hit);
        }
        // One computation at a time: when a fleet asks at once after a change, the first
        // request computes and the others find its document in the cache.
        let _computing = cache.computing();
        if let Some(hit) = cache.get(team, &etag) {
            return Ok(hit);
        }
        let shared = compute()?;
        cache.put(team, shared.clone());
        Ok(shared)
    })
    .await?;
    Ok(Outcome::Changed(shared, host))
}

/// 304 with the current entity tag.
fn not_modified_response(etag: String) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag))
        .finish()
}

async fn access(
    req: HttpRequest,
    query: web::Query<AccessQuery>,
) -> Result<HttpResponse, AgentError> {
    let (shared, host) = match document(&req, query.wait).await? {
        Outcome::Changed(shared, host) => (shared, host),
        Outcome::NotModified(etag) => return Ok(not_modified_response(etag)),
    };
    Ok(ok(&shared)
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

async fn principals(
    req: HttpRequest,
    query: web::Query<PrincipalsQuery>,
) -> Result<HttpResponse, AgentError> {
    let user = query
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| AgentError::BadRequest("name the local account: ?user=NAME".into()))?;
    let shared = match document(&req, None).await? {
        Outcome::Changed(shared, _) => shared,
        Outcome::NotModified(etag) => return Ok(not_modified_response(etag)),
    };
    let body = render::principals(&shared.computed.document, &user);
    Ok(text(&shared, body))
}

async fn sudoers(req: HttpRequest) -> Result<HttpResponse, AgentError> {
    let (shared, host) = match document(&req, None).await? {
        Outcome::Changed(shared, host) => (shared, host),
        Outcome::NotModified(etag) => return Ok(not_modified_response(etag)),
    };
    let body = render::sudoers(&shared.computed.document, &host.hostname);
    Ok(text(&shared, body))
}
