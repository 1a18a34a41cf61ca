//! The one place where errors become HTTP responses: always a SCIM Error body with
//! `Content-Type: application/scim+json`.

use crate::response::SCIM_JSON;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use scim_core::message::error_body;
use store::StoreError;

/// Everything a SCIM request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request breaks a SCIM rule (400 or 409 with a `scimType`).
    #[error(transparent)]
    Scim(#[from] scim_core::Error),
    /// No bearer token, or one that is wrong, revoked, expired or of another team.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The caller's address or the team failed to authenticate too often; the token was
    /// not checked (429 with `Retry-After`).
    #[error(transparent)]
    TooManyFailures(#[from] web_common::Refused),
    /// No such resource in this team.
    #[error("{0}")]
    NotFound(String),
    /// The method is not allowed on this endpoint; the value lists the allowed ones.
    #[error("this method is not allowed here; allowed: {0}")]
    MethodNotAllowed(&'static str),
    /// `If-Match` did not match the current version.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The body is larger than the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The database failed or could not be reached.
    #[error(transparent)]
    Store(StoreError),
    /// The blocking worker pool failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<web_common::BlockingFailed> for ApiError {
    fn from(err: web_common::BlockingFailed) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("resource not found".into()),
            StoreError::Conflict { attribute } => ApiError::Scim(scim_core::Error::Uniqueness(
                format!("{attribute} is already taken in this team"),
            )),
            StoreError::UnknownMembers(ids) => ApiError::Scim(scim_core::Error::InvalidValue(
                format!("no user with id {} in this team", ids.join(", ")),
            )),
            StoreError::Invalid(message) => ApiError::Scim(scim_core::Error::InvalidValue(message)),
            StoreError::VersionMismatch { current, .. } => ApiError::PreconditionFailed(format!(
                "If-Match does not match: the current version is {}",
                scim_core::resource::etag(current)
            )),
            other => ApiError::Store(other),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        let code = match self {
            ApiError::Scim(e) => e.status(),
            ApiError::Unauthorized(_) => 401,
            ApiError::NotFound(_) => 404,
            ApiError::TooManyFailures(_) => 429,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::PreconditionFailed(_) => 412,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Store(e) if e.is_transient() => 503,
            ApiError::Store(StoreError::Unavailable(_)) => 503,
            ApiError::Store(_) | ApiError::Internal(_) => 500,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let scim_type = match self {
            ApiError::Scim(e) => Some(e.scim_type().as_str()),
            _ => None,
        };
        let detail = match self {
            // Database details are for the log, not for the client.
            ApiError::Store(e) if status == StatusCode::SERVICE_UNAVAILABLE => {
                log::warn!("database unavailable: {e}");
                "the database is unavailable; retry later".to_string()
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                log::error!("request failed: {self}");
                "internal server error".to_string()
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, SCIM_JSON));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"sshward-scim\""));
            }
            ApiError::Store(_) if status == StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::MethodNotAllowed(allow) => {
                response.insert_header((header::ALLOW, *allow));
            }
            ApiError::TooManyFailures(refused) => {
                response.insert_header(refused.retry_after_header());
            }
            _ => {}
        }
        response.body(error_body(status.as_u16(), scim_type, &detail).to_string())
    }
}
