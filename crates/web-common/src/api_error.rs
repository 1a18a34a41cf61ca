//! The errors of sshward's JSON APIs outside SCIM (agent, certificates) and the one place
//! they become HTTP responses: always a small JSON body `{"error": "<code>", "message":
//! "<text>"}`, never HTML, never a 500 for bad input. Application errors ([`AppError`])
//! convert here, at the edge.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use app::AppError;
use proto::{ErrorBody, ErrorCode};
use store::StoreError;

/// Everything a JSON API request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
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
    /// The source or team failed to authenticate too often; the credential was not
    /// checked.
    #[error(transparent)]
    TooManyFailures(#[from] crate::Refused),
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Store(StoreError),
    /// Anything else that is the server's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Invalid(message) => ApiError::BadRequest(message),
            AppError::NotFound(message) => ApiError::NotFound(message),
            AppError::Conflict(message) => ApiError::Conflict(message),
            AppError::Unauthorized(message) => ApiError::Unauthorized(message),
            AppError::Forbidden(message) => ApiError::Forbidden(message),
            AppError::Store(e) => ApiError::Store(e),
            AppError::Internal(message) => ApiError::Internal(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        AppError::from(err).into()
    }
}

impl From<crate::BlockingFailed> for ApiError {
    fn from(err: crate::BlockingFailed) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<host_policy::PolicyError> for ApiError {
    fn from(err: host_policy::PolicyError) -> Self {
        ApiError::BadRequest(err.to_string())
    }
}

impl ApiError {
    /// The machine-readable code of the JSON body.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::TooManyFailures(_) => ErrorCode::TooManyRequests,
            ApiError::Store(e) if e.is_transient() => ErrorCode::Unavailable,
            ApiError::Store(StoreError::Unavailable(_)) => ErrorCode::Unavailable,
            ApiError::Store(_) | ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.code() {
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            // Database details are for the log, not for the client.
            ApiError::Store(e) if status == StatusCode::SERVICE_UNAVAILABLE => {
                log::warn!("database unavailable: {e}");
                "the database is unavailable; retry later".to_owned()
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                log::error!("API request failed: {self}");
                "internal server error".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = crate::error_response(status, &ErrorBody::new(self.code(), message));
        let extra = match self {
            ApiError::Unauthorized(_) => Some((
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"sshward\""),
            )),
            ApiError::TooManyFailures(refused) => Some(refused.retry_after_header()),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                Some((header::RETRY_AFTER, header::HeaderValue::from_static("5")))
            }
            _ => None,
        };
        if let Some((name, value)) = extra {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
