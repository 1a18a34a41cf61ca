//! The one error type of scim-core, carrying the RFC 7644 section 3.12 `scimType`.

/// The `scimType` values of RFC 7644 section 3.12 (plus none for plain errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimType {
    /// The filter syntax was invalid, or the attribute and comparison are not supported.
    InvalidFilter,
    /// The request could not be parsed or violates the schema.
    InvalidSyntax,
    /// A PATCH path or attribute path was malformed or names nothing.
    InvalidPath,
    /// A value was missing or of the wrong type.
    InvalidValue,
    /// The change would modify a read-only or immutable attribute.
    Mutability,
    /// A PATCH target selected nothing that could be operated on.
    NoTarget,
    /// A unique attribute value is already taken.
    Uniqueness,
    /// The request asks for more results or operations than the server will process.
    TooMany,
}

impl ScimType {
    /// The keyword sent in the `scimType` member of an error response.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::InvalidValue => "invalidValue",
            ScimType::Mutability => "mutability",
            ScimType::NoTarget => "noTarget",
            ScimType::Uniqueness => "uniqueness",
            ScimType::TooMany => "tooMany",
        }
    }
}

/// A client error found while reading or applying a SCIM request.
///
/// Every variant is the client's fault and maps to an HTTP 4xx with a `scimType`
/// ([`Error::scim_type`], [`Error::status`]); nothing here is a server failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A filter expression could not be parsed or names an unusable attribute. Parse
    /// errors name the zero-based character position.
    #[error("{0}")]
    InvalidFilter(String),
    /// The request body is not what the schema or message format requires.
    #[error("{0}")]
    InvalidSyntax(String),
    /// A PATCH path (or `attributes` entry) is malformed or names an unknown attribute.
    #[error("{0}")]
    InvalidPath(String),
    /// A value is missing or has the wrong type.
    #[error("{0}")]
    InvalidValue(String),
    /// The request tries to change a read-only or immutable attribute.
    #[error("{0}")]
    Mutability(String),
    /// A PATCH operation has no target.
    #[error("{0}")]
    NoTarget(String),
    /// A unique value is already in use.
    #[error("{0}")]
    Uniqueness(String),
    /// Too many operations or results were requested.
    #[error("{0}")]
    TooMany(String),
}

impl Error {
    /// The `scimType` to send with this error.
    pub fn scim_type(&self) -> ScimType {
        match self {
            Error::InvalidFilter(_) => ScimType::InvalidFilter,
            Error::InvalidSyntax(_) => ScimType::InvalidSyntax,
            Error::InvalidPath(_) => ScimType::InvalidPath,
            Error::InvalidValue(_) => ScimType::InvalidValue,
            Error::Mutability(_) => ScimType::Mutability,
            Error::NoTarget(_) => ScimType::NoTarget,
            Error::Uniqueness(_) => ScimType::Uniqueness,
            Error::TooMany(_) => ScimType::TooMany,
        }
    }

    /// The HTTP status code for this error (400, or 409 for uniqueness).
    pub fn status(&self) -> u16 {
        match self {
            Error::Uniqueness(_) => 409,
            _ => 400,
        }
    }

    pub(crate) fn filter_at(position: usize, reason: impl std::fmt::Display) -> Error {
        Error::InvalidFilter(format!("invalid filter at character {position}: {reason}"))
    }
}
