//! The one place where the agent API's errors become HTTP responses: always a small JSON
//! body `{"error": "<code>", "message": "<text>"}`, never HTML, never a 500 for bad input.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use store::StoreError;

use crate::PolicyError;

/// Everything the host-agent API and the store glue can fail with.
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

impl From<StoreError> for AgentError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AgentError::NotFound("not found".into()),
            StoreError::Conflict { attribute } => {
                AgentError::Conflict(format!("{attribute} is already taken"))
            }
            StoreError::Invalid(message) => AgentError::BadRequest(message),
            other => AgentError::Store(other),
        }
    }
}

impl From<PolicyError> for AgentError {
    fn from(err: PolicyError) -> Self {
        AgentError::BadRequest(err.to_string())
    }
}

impl AgentError {
    /// The machine-readable code of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            AgentError::Unauthorized(_) => "unauthorized",
            AgentError::Forbidden(_) => "forbidden",
            AgentError::BadRequest(_) => "bad_request",
            AgentError::NotFound(_) => "not_found",
            AgentError::Conflict(_) => "conflict",
            AgentError::PayloadTooLarge(_) => "payload_too_large",
            AgentError::Store(e) if e.is_transient() => "unavailable",
            AgentError::Store(StoreError::Unavailable(_)) => "unavailable",
            AgentError::Store(_) | AgentError::Internal(_) => "internal",
        }
    }
}

impl ResponseError for AgentError {
    fn status_code(&self) -> StatusCode {
        match self.code() {
            "unauthorized" => StatusCode::UNAUTHORIZED,
            "forbidden" => StatusCode::FORBIDDEN,
            "bad_request" => StatusCode::BAD_REQUEST,
            "not_found" => StatusCode::NOT_FOUND,
            "conflict" => StatusCode::CONFLICT,
            "payload_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
            "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
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
        let mut response = HttpResponse::build(status);
        match self {
            AgentError::Unauthorized(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"sshward-agent\""));
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        response.json(serde_json::json!({ "error": self.code(), "message": message }))
    }
}
