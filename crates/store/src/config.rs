//! Store configuration and the choice of backend from the database URL.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::StoreError;

/// How to reach the database and how to size the connection pool.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `sqlite://PATH`, `sqlite:PATH`, a plain file path (SQLite), `sqlite::memory:`, or
    /// `postgres://...` / `postgresql://...` (PostgreSQL, passed to libpq as is).
    pub url: String,
    /// Maximum number of pooled connections.
    pub pool_size: u32,
    /// Connections kept open when idle (`None`: as many as `pool_size`).
    pub min_idle: Option<u32>,
    /// How long to wait for a free connection (and for a new connection to be made).
    pub connect_timeout: Duration,
    /// Idle connections are closed after this long (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long (`None`: never).
    pub max_lifetime: Option<Duration>,
    /// SQLite only: how long a statement waits for another writer's lock.
    pub busy_timeout: Duration,
    /// SQLite only: when commits reach the disk (default [`SqliteSync::Full`]).
    pub sqlite_synchronous: SqliteSync,
    /// Apply pending migrations in [`crate::Store::open`].
    pub run_migrations: bool,
}

impl StoreConfig {
    /// A configuration with default pool settings for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        StoreConfig {
            url: url.into(),
            pool_size: 10,
            min_idle: Some(1),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            busy_timeout: Duration::from_secs(10),
            sqlite_synchronous: SqliteSync::Full,
            run_migrations: true,
        }
    }
}

impl Default for StoreConfig {
    /// `sqlite://sshward.db` in the working directory.
    fn default() -> Self {
        StoreConfig::new("sqlite://sshward.db")
    }
}

/// When SQLite's commits reach the disk (its `synchronous` pragma, in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SqliteSync {
    /// Every commit is synced to the disk before it is acknowledged: an answered write
    /// survives a power cut (a lost "disable" would re-enable a person Entra removed).
    #[default]
    Full,
    /// Commits are synced only at checkpoints: a process crash loses nothing, but a power
    /// cut or kernel crash can lose the last acknowledged writes. Faster writes.
    Normal,
}

impl SqliteSync {
    /// `full` or `normal`.
    pub fn as_str(self) -> &'static str {
        match self {
            SqliteSync::Full => "full",
            SqliteSync::Normal => "normal",
        }
    }

    /// Parses [`SqliteSync::as_str`]'s names (ignoring case).
    pub fn parse(s: &str) -> Result<SqliteSync, StoreError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(SqliteSync::Full),
            "normal" => Ok(SqliteSync::Normal),
            other => Err(StoreError::Invalid(format!(
                "synchronous {other:?} must be full or normal"
            ))),
        }
    }
}

/// The database engine behind a [`crate::Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend a database URL names, as [`crate::Store::open`] reads it.
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        DatabaseUrl::parse(url).map(|t| t.backend())
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where connections go: a database URL, parsed. The one parser of database URLs (the
/// binary's configuration check uses it too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file (created if missing).
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (one connection only).
    SqliteMemory,
    /// A libpq connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`, a plain file path
    /// (SQLite), or `postgres://...` / `postgresql://...`. Anything that starts with
    /// another scheme (`mysql://x`, `postgres:/x`, `file:x`) is an error, never a SQLite
    /// file of that name.
    pub fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::Config("empty database URL".into()));
        }
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = if lower.starts_with("sqlite://") {
            &url["sqlite://".len()..]
        } else if lower.starts_with("sqlite:") {
            &url["sqlite:".len()..]
        } else if let Some(scheme) = scheme_of(url) {
            return Err(StoreError::Config(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite://PATH or \
                 postgres://USER@HOST/DB"
            )));
        } else {
            url
        };
        if path == ":memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if path.is_empty() {
            return Err(StoreError::Config("empty SQLite path".into()));
        }
        Ok(DatabaseUrl::SqliteFile(PathBuf::from(path)))
    }

    /// The SQLite file, if the URL names one (not for PostgreSQL or `:memory:`).
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match self {
            DatabaseUrl::SqliteFile(path) => Some(path),
            DatabaseUrl::SqliteMemory | DatabaseUrl::Postgres(_) => None,
        }
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// The URL scheme `text` starts with (`mysql` of `mysql://x`, `postgres` of `postgres:/x`),
/// if any: letters, then letters, digits, `+`, `-` or `.`, then `:`.
fn scheme_of(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").ok(),
            Some(DatabaseUrl::Postgres("postgres://u@h/db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("PostgreSQL://u@h/db")
                .map(|t| t.backend())
                .ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/s.db").ok(),
            Some(DatabaseUrl::SqliteFile("data/s.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/s.db").ok(),
            Some(DatabaseUrl::SqliteFile("/var/lib/s.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:s.db").ok(),
            Some(DatabaseUrl::SqliteFile("s.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("/tmp/x.db").ok(),
            Some(DatabaseUrl::SqliteFile("/tmp/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").ok(),
            Some(DatabaseUrl::SqliteMemory)
        );
        assert_eq!(
            DatabaseUrl::parse("./data/x.db").ok(),
            Some(DatabaseUrl::SqliteFile("./data/x.db".into()))
        );
        for bad in [
            "mysql://x",
            "postgres:/x",
            "postgresql:x",
            "file:x.db",
            "MYSQL://X",
            "",
            "sqlite://",
            "  ",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?}");
        }
    }
}
