//! The one place where the agent API's errors become HTTP responses: always a small JSON
//! body `{"error": "<code>", "message": "<text>"}`, never HTML, never a 500 for bad input.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use app::AppError;
use proto::{ErrorBody, ErrorCode};
use store::StoreError;

/// Everything the host-agent API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// No credential, or a wrong one (or a wrong, used or expired join token).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed (e.g. a tag the join token does not confer).
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing to create exists already.
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the limit.
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Store(StoreError),
    /// Anything else that is the server's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<AppError> for AgentError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Invalid(message) => AgentError::BadRequest(message),
            AppError::NotFound(message) => AgentError::NotFound(message),
            AppError::Conflict(message) => AgentError::Conflict(message),
            AppError::Unauthorized(message) => AgentError::Unauthorized(message),
            AppError::Forbidden(message) => AgentError::Forbidden(message),
            AppError::Store(e) => AgentError::Store(e),
            AppError::Internal(message) => AgentError::Internal(message),
        }
    }
}

impl From<StoreError> for AgentError {
    fn from(err: StoreError) -> Self {
        AppError::from(err).into()
    }
}

impl From<web_common::BlockingFailed> for AgentError {
    fn from(err: web_common::BlockingFailed) -> Self {
        AgentError::Internal(err.to_string())
    }
}

impl From<host_policy::PolicyError> for AgentError {
    fn from(err: host_policy::PolicyError) -> Self {
        AgentError::BadRequest(err.to_string())
    }
}

impl AgentError {
    /// The machine-readable code of the JSON body.
    pub fn code(&self) -> ErrorCode {
        match self {
            AgentError::Unauthorized(_) => ErrorCode::Unauthorized,
            AgentError::Forbidden(_) => ErrorCode::Forbidden,
            AgentError::BadRequest(_) => ErrorCode::BadRequest,
            AgentError::NotFound(_) => ErrorCode::NotFound,
            AgentError::Conflict(_) => ErrorCode::Conflict,
            AgentError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            AgentError::Store(e) if e.is_transient() => ErrorCode::Unavailable,
            AgentError::Store(StoreError::Unavailable(_)) => ErrorCode::Unavailable,
            AgentError::Store(_) | AgentError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl ResponseError for AgentError {
    fn status_code(&self) -> StatusCode {
        match self.code() {
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            // Database details are for the log, not for the client.
            AgentError::Store(e) if status == StatusCode::SERVICE_UNAVAILABLE => {
                log::warn!("database unavailable: {e}");
                "the database is unavailable; retry later".to_owned()
            }
            AgentError::Store(_) | AgentError::Internal(_) => {
                log::error!("agent API request failed: {self}");
                "internal server error".to_owned()
            }
            other => other.to_string(),
        };
        let mut response =
            web_common::error_response(status, &ErrorBody::new(self.code(), message));
        let extra = match self {
            AgentError::Unauthorized(_) => {
                Some((header::WWW_AUTHENTICATE, "Bearer realm=\"sshward-agent\""))
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some((header::RETRY_AFTER, "5")),
            _ => None,
        };
        if let Some((name, value)) = extra {
            response
                .headers_mut()
                .insert(name, header::HeaderValue::from_static(value));
        }
        response
    }
}
