//! The application layer's one error type. Front ends convert it at their edge: the CLI
//! into exit codes, the HTTP APIs into status codes and JSON bodies.

use store::StoreError;

/// Why an action was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is invalid (a malformed tag, selector, name, path or range).
    #[error("{0}")]
    Invalid(String),
    /// The named team, host, grant, token, user or group does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing to create exists already, or the action conflicts with its state.
    #[error("{0}")]
    Conflict(String),
    /// No credential, or a wrong, used, expired or revoked one.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed (e.g. a tag the join token does not confer).
    #[error("{0}")]
    Forbidden(String),
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Store(StoreError),
    /// Anything else that is the server's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AppError::NotFound("not found".into()),
            StoreError::Conflict { attribute } => {
                AppError::Conflict(format!("{attribute} is already taken"))
            }
            StoreError::Invalid(message) => AppError::Invalid(message),
            other => AppError::Store(other),
        }
    }
}

impl From<host_policy::PolicyError> for AppError {
    fn from(err: host_policy::PolicyError) -> Self {
        AppError::Invalid(err.to_string())
    }
}
