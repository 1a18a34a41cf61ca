//! The store's error type.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Everything that can go wrong in the store.
///
/// The SCIM API maps [`StoreError::NotFound`] to 404, [`StoreError::Conflict`] to
/// 409 `uniqueness`, [`StoreError::VersionMismatch`] to 412, [`StoreError::UnknownMembers`]
/// and [`StoreError::Invalid`] to 400 `invalidValue`, and everything else to 500/503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The team, resource or token does not exist (in this team).
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint was violated; `attribute` names it (`userName`,
    /// `displayName`, `slug`, ...).
    #[error("{attribute} is already taken")]
    Conflict {
        /// The attribute whose value must be unique.
        attribute: &'static str,
    },
    /// The resource's version is not the expected one (failed `If-Match`).
    #[error("version mismatch: expected {expected}, current {current}")]
    VersionMismatch {
        /// The version the caller expected.
        expected: i64,
        /// The version actually stored.
        current: i64,
    },
    /// Group members that are not users of the group's team.
    #[error("unknown member ids: {}", .0.join(", "))]
    UnknownMembers(Vec<String>),
    /// The data given to the store is not acceptable (missing `userName`, bad slug, ...).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The configuration (database URL, pool settings) is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// No database connection could be obtained from the pool in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Applying the migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value could not be decoded (corrupt row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(DieselError),
}

impl StoreError {
    /// True for errors that a caller may retry later (pool exhausted, lost connection,
    /// serialization failure or deadlock).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(DieselError::DatabaseError(kind, _)) => matches!(
                kind,
                DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection
            ),
            _ => false,
        }
    }
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &err {
            let attribute = unique_attribute(info.constraint_name(), info.message());
            return StoreError::Conflict { attribute };
        }
        if let DieselError::DatabaseError(_, info) = &err {
            // SQLite reports a busy database as a generic error after the busy timeout.
            let msg = info.message();
            if msg.contains("database is locked") || msg.contains("database is busy") {
                return StoreError::Unavailable(msg.to_owned());
            }
        }
        StoreError::Database(err)
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(err: r2d2::Error) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}

/// Names the SCIM attribute behind a unique index, from PostgreSQL's constraint name or
/// SQLite's "UNIQUE constraint failed: table.col, ..." message.
fn unique_attribute(constraint: Option<&str>, message: &str) -> &'static str {
    const KNOWN: [(&str, &str, &str); 10] = [
        ("posix_ids_name_key", "posix_ids.name", "posixName"),
        ("posix_ids_number_key", "posix_ids.number", "posixId"),
        ("hosts_hostname_key", "hosts.hostname", "hostname"),
        ("hosts_credential_key", "hosts.credential_sha256", "token"),
        (
            "host_join_tokens_sha256_key",
            "host_join_tokens.token_sha256",
            "token",
        ),
        ("grants_key", "grants.role", "grant"),
        (
            "scim_users_user_name_key",
            "scim_users.user_name_lower",
            "userName",
        ),
        (
            "scim_groups_display_name_key",
            "scim_groups.display_name_lower",
            "displayName",
        ),
        ("teams_slug_key", "teams.slug", "slug"),
        (
            "scim_tokens_sha256_key",
            "scim_tokens.token_sha256",
            "token",
        ),
    ];
    for (index, column, attribute) in KNOWN {
        if constraint == Some(index) || message.contains(column) || message.contains(index) {
            return attribute;
        }
    }
    // Primary keys: a clashing generated id (practically impossible with UUID v4).
    "id"
}

#[cfg(test)]
mod tests {
    use super::unique_attribute;

    #[test]
    fn names_attribute_from_either_backend() {
        assert_eq!(
            unique_attribute(
                None,
                "UNIQUE constraint failed: scim_users.team_id, scim_users.user_name_lower"
            ),
            "userName"
        );
        assert_eq!(
            unique_attribute(Some("scim_groups_display_name_key"), "duplicate key value"),
            "displayName"
        );
        assert_eq!(
            unique_attribute(None, "UNIQUE constraint failed: teams.slug"),
            "slug"
        );
        assert_eq!(unique_attribute(Some("scim_users_pkey"), "dup"), "id");
    }
}
