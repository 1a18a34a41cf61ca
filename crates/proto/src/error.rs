//! The one error body of sshward's JSON APIs outside SCIM.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `{"error": CODE, "message": TEXT}`: a machine-readable code and a sentence for people.
/// The sign-in API adds `reason` when it refuses someone (which claim or directory check
/// failed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong, for programs.
    pub error: ErrorCode,
    /// What went wrong and what to do, for people. Never holds a secret or a database
    /// detail.
    pub message: String,
    /// Why a sign-in was refused (e.g. `domain_not_allowed`), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ErrorBody {
    /// A body with this code and message.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error,
            message: message.into(),
            reason: None,
        }
    }
}

/// The error codes. Codes are added over time: a client must treat a code it does not
/// know ([`ErrorCode::Other`]) by its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed.
    BadRequest,
    /// 401: no credential, or a wrong, revoked or expired one.
    Unauthorized,
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 404: no such route or thing.
    NotFound,
    /// 405: the route does not take this method.
    MethodNotAllowed,
    /// 409: the thing to create exists already, or the change conflicts with its state.
    Conflict,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 415: the body is not of a media type the route takes.
    UnsupportedMediaType,
    /// 429: too many requests, or too many failed authentications, from this client or
    /// for this team; retry after `Retry-After` seconds.
    TooManyRequests,
    /// 503: the database (or another dependency) is unavailable; retry later.
    Unavailable,
    /// 500: the server's fault; the log says more.
    Internal,
    /// Device sign-in: the person has not finished signing in yet (RFC 8628).
    AuthorizationPending,
    /// Device sign-in: poll more slowly (RFC 8628).
    SlowDown,
    /// Sign-in: the code or device code is wrong, used or expired.
    InvalidGrant,
    /// Sign-in: the person may not sign in (see `reason`).
    AccessDenied,
    /// Sign-in: the grant type or flow is not offered (e.g. the identity provider has no
    /// device sign-in; RFC 6749).
    UnsupportedGrantType,
    /// Sign-in: the team has no sign-in configured.
    NotConfigured,
    /// Sign-in: the identity provider failed or could not be reached.
    ProviderError,
    /// A code this version does not know.
    #[serde(other)]
    Other,
}

impl ErrorCode {
    /// The code as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::NotConfigured => "not_configured",
            ErrorCode::ProviderError => "provider_error",
            ErrorCode::Other => "other",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
