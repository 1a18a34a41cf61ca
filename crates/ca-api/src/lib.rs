//! sshward's certificate routes for people and SSH clients. The rules (who gets a
//! certificate, for which principal, until when) live in crate `app`; the access token
//! (crate `access-token`, issued by sign-in) is verified here with the key the binary
//! hands over; this crate is the HTTP edge and depends on no other web crate.
//!
//! [`configure`] mounts:
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `POST /api/v1/ssh/user-certificate` | the access token of `sshward login` (`Authorization: Bearer`) | 201 [`proto::CertificateResponse`] for the [`proto::UserCertificateRequest`]'s key |
//! | `GET /api/v1/teams/{team}/ca/user.pub` | none | `text/plain`: the team's user CA keys, one OpenSSH line each (sshd's `TrustedUserCAKeys`) |
//! | `GET /api/v1/teams/{team}/ca/host.pub` | none | `text/plain`: the team's host CA keys (for `@cert-authority` in `known_hosts`) |
//!
//! Errors are a [`proto::ErrorBody`]. Wrong access tokens are limited per address
//! ([`web_common::failures`]): beyond the budget a request gets 429 (`too_many_requests`)
//! with `Retry-After`, without its token being checked.

use std::sync::Arc;

use access_token::{TokenError, TokenKey};
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use app::{App, CertKind, UserCertRequest};
use proto::UserCertificateRequest;
use ssh_ca::SubjectKey;
use time::OffsetDateTime;
use web_common::{ApiError, FailureLimiter, bearer_token, blocking, peer_ip};

/// Largest request body: a public key line is at most 16 KiB.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// What the certificate routes share.
#[derive(Clone, Debug)]
pub struct CaState {
    /// The application layer.
    pub app: App,
    /// The key access tokens are signed with (sign-in's).
    pub tokens: TokenKey,
    /// The access tokens' issuer: sshward's public URL.
    pub issuer: String,
    /// Failed authentications per address (the process's one limiter).
    pub failures: Arc<FailureLimiter>,
}

/// The routes of [`configure`], for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(user_certificate, ca_keys))]
struct Doc;

/// The OpenAPI description of the routes [`configure`] mounts (part of the server's
/// `GET /openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    Doc::openapi()
}

/// Mounts the certificate routes on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig, state: CaState) {
    let data = web::Data::new(state);
    cfg.service(
        web::resource("/api/v1/ssh/user-certificate")
            .app_data(data.clone())
            .route(web::post().to(user_certificate))
            .default_service(web_common::method_not_allowed("POST")),
    )
    .service(
        web::resource("/api/v1/teams/{team}/ca/{file}")
            .app_data(data)
            .route(web::get().to(ca_keys))
            .default_service(web_common::method_not_allowed("GET")),
    );
}

fn state(req: &HttpRequest) -> Result<web::Data<CaState>, ApiError> {
    req.app_data::<web::Data<CaState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("certificate API state is not configured".into()))
}

/// A user certificate for a signed-in person's key, until the access token expires.
#[utoipa::path(post, path = "/api/v1/ssh/user-certificate", tag = "certificates",
    request_body = proto::UserCertificateRequest,
    security(("access_token" = [])),
    responses(
        (status = 201, description = "the certificate", body = proto::CertificateResponse),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn user_certificate(
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let token = bearer_token(&req).ok_or(ApiError::Unauthorized(
        "send the access token of `sshward login` as 'Authorization: Bearer <token>'",
    ))?;
    let body = match payload.to_bytes_limited(MAX_BODY_BYTES).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            return Err(ApiError::BadRequest(format!(
                "could not read the body: {e}"
            )));
        }
        Err(_) => return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES)),
    };
    let request: UserCertificateRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "send {{\"public_key\": \"ssh-ed25519 AAAA... comment\"}}: {e}"
        ))
    })?;
    let key: SubjectKey = request
        .public_key
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("public_key: {e}")))?;
    let peer = peer_ip(&req);
    let requester = peer.map(|ip| ip.to_string());
    let attempt = state.failures.admit(peer, None, &token)?;
    let claims = state
        .tokens
        .verify(&token, &state.issuer)
        .map_err(|e| match e {
            TokenError::Invalid(why) => {
                attempt.failed();
                ApiError::Unauthorized(why)
            }
            TokenError::Key(message) => ApiError::Internal(message),
        })?;
    attempt.succeeded();
    let app = state.app.clone();
    let issued = blocking(move || {
        let not_after = OffsetDateTime::from_unix_timestamp(claims.exp)
            .map_err(|_| ApiError::Unauthorized("the access token's expiry is out of range"))?;
        let request = UserCertRequest {
            team: &claims.team,
            user_id: &claims.sub,
            session: &claims.jti,
            key: &key,
            not_after,
            requester: requester.as_deref(),
        };
        Ok::<_, ApiError>(app.issue_user_certificate(&request)?)
    })
    .await?;
    log::info!(
        "issued certificate {} ({}) for {}",
        issued.record.serial,
        issued.record.key_id,
        issued.record.principals.join(",")
    );
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(issued.response()))
}

/// The team's CA public keys (public: what sshd and `known_hosts` trust).
#[utoipa::path(get, path = "/api/v1/teams/{team}/ca/{file}", tag = "certificates",
    params(
        ("team" = String, Path, description = "the team's name"),
        ("file" = String, Path, description = "user.pub or host.pub"),
    ),
    responses(
        (status = 200, description = "one OpenSSH key line per key", body = String,
            content_type = "text/plain"),
        (status = "default", description = "an error", body = proto::ErrorBody),
    ))]
async fn ca_keys(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let team = req.match_info().get("team").unwrap_or_default().to_owned();
    let kind = match req.match_info().get("file") {
        Some("user.pub") => CertKind::User,
        Some("host.pub") => CertKind::Host,
        _ => {
            return Err(ApiError::NotFound(
                "the CA files are user.pub and host.pub".into(),
            ));
        }
    };
    let app = state.app.clone();
    let keys = blocking(move || Ok::<_, ApiError>(app.ca_public_keys(&team, kind)?)).await?;
    let mut text = keys.join("\n");
    text.push('\n');
    Ok(HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(text))
}
