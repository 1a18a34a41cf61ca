//! The binary's error type and its exit codes.

use store::StoreError;

/// What can make a command fail. Each kind has its own exit code (see [`Error::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument is invalid (exit code 2, like clap's usage errors).
    #[error("{0}")]
    Usage(String),
    /// The configuration is invalid or unusable (exit code 3).
    #[error("{0}")]
    Config(String),
    /// The named team, token, user or group does not exist (exit code 4).
    #[error("{0}")]
    NotFound(String),
    /// The thing to create exists already (exit code 5).
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or failed (exit code 1).
    #[error("database: {0}")]
    Store(StoreError),
    /// Anything else (exit code 1).
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Config(_) => 3,
            Error::NotFound(_) => 4,
            Error::Conflict(_) => 5,
            Error::Store(_) | Error::Other(_) => 1,
        }
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Error::NotFound("not found".into()),
            StoreError::Conflict { attribute } => {
                Error::Conflict(format!("{attribute} is already taken"))
            }
            StoreError::Invalid(msg) => Error::Usage(msg),
            StoreError::Config(msg) => {
                Error::Config(format!("invalid configuration: database: {msg}"))
            }
            other => Error::Store(other),
        }
    }
}

impl From<app::AppError> for Error {
    fn from(err: app::AppError) -> Self {
        use app::AppError as A;
        match err {
            A::Invalid(m) | A::Forbidden(m) => Error::Usage(m),
            A::NotFound(m) => Error::NotFound(m),
            A::Conflict(m) => Error::Conflict(m),
            A::Unauthorized(m) => Error::Usage(m.to_owned()),
            A::Store(e) => Error::Store(e),
            A::Internal(m) => Error::Other(m),
        }
    }
}

impl From<host_policy::PolicyError> for Error {
    fn from(err: host_policy::PolicyError) -> Self {
        Error::Usage(err.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Other(err.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::Other(format!("JSON output: {err}"))
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
