//! `GET /healthz` (the process answers), `GET /readyz` (the database answers too), and
//! the JSON answers for unknown routes outside `/scim`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use proto::{ErrorBody, ErrorCode};
use serde_json::json;
use store::Store;

/// The body of `/healthz` and `/readyz` (a description for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the handlers write it with json!
pub(crate) struct Health {
    /// `ok`, `ready` or `unavailable`.
    status: String,
    /// Why not ready.
    reason: Option<String>,
}

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Mounts `/healthz` and `/readyz`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/healthz")
            .route(web::get().to(healthz))
            .route(web::head().to(healthz))
            .default_service(web_common::method_not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/readyz")
            .route(web::get().to(readyz))
            .route(web::head().to(readyz))
            .default_service(web_common::method_not_allowed("GET, HEAD")),
    );
}

/// The process answers.
#[utoipa::path(method(get, head), path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "the process answers", body = Health),
        (status = "default", description = "an error", body = ErrorBody),
    ))]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The process and its database answer.
#[utoipa::path(method(get, head), path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "ready", body = Health),
        (status = 503, description = "the database does not answer", body = Health),
        (status = "default", description = "an error", body = ErrorBody),
    ))]
pub(crate) async fn readyz(store: web::Data<Store>) -> HttpResponse {
    let store = store.into_inner();
    let ping = web_common::blocking(move || store.ping().map_err(|e| NotReady(e.to_string())));
    let problem = match actix_web::rt::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(())) => None,
        Ok(Err(NotReady(e))) => Some(e),
        Err(_) => Some(format!("no answer within {}s", READY_TIMEOUT.as_secs())),
    };
    match problem {
        None => HttpResponse::Ok().json(json!({"status": "ready"})),
        Some(p) => {
            log::warn!("readiness check failed: database: {p}");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "reason": "database unavailable"}))
        }
    }
}

/// Why the database did not answer a readiness check.
struct NotReady(String);

impl From<web_common::BlockingFailed> for NotReady {
    fn from(err: web_common::BlockingFailed) -> Self {
        NotReady(err.to_string())
    }
}

/// The answer for routes that do not exist (outside `/scim`, which answers SCIM errors).
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let body = ErrorBody::new(
        ErrorCode::NotFound,
        format!("no route {} {}", req.method(), req.path()),
    );
    web_common::error_response(StatusCode::NOT_FOUND, &body)
}
