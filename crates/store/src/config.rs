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
        Target::parse(url).map(|t| t.backend())
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

/// Where connections go, parsed from [`StoreConfig::url`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A SQLite database file (created if missing).
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (one connection only).
    SqliteMemory,
    /// A libpq connection URL.
    Postgres(String),
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Target, StoreError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::Config("empty database URL".into()));
        }
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_owned()));
        }
        let path = if lower.starts_with("sqlite://") {
            &url["sqlite://".len()..]
        } else if lower.starts_with("sqlite:") {
            &url["sqlite:".len()..]
        } else if lower.contains("://") {
            return Err(StoreError::Config(format!(
                "unsupported database URL scheme in {url:?} (use sqlite:// or postgres://)"
            )));
        } else {
            url
        };
        if path == ":memory:" {
            return Ok(Target::SqliteMemory);
        }
        if path.is_empty() {
            return Err(StoreError::Config("empty SQLite path".into()));
        }
        Ok(Target::SqliteFile(PathBuf::from(path)))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Target::SqliteFile(_) | Target::SqliteMemory => Backend::Sqlite,
            Target::Postgres(_) => Backend::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(
            Target::parse("postgres://u@h/db").ok(),
            Some(Target::Postgres("postgres://u@h/db".into()))
        );
        assert_eq!(
            Target::parse("PostgreSQL://u@h/db")
                .map(|t| t.backend())
                .ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Target::parse("sqlite://data/s.db").ok(),
            Some(Target::SqliteFile("data/s.db".into()))
        );
        assert_eq!(
            Target::parse("sqlite:///var/lib/s.db").ok(),
            Some(Target::SqliteFile("/var/lib/s.db".into()))
        );
        assert_eq!(
            Target::parse("sqlite:s.db").ok(),
            Some(Target::SqliteFile("s.db".into()))
        );
        assert_eq!(
            Target::parse("/tmp/x.db").ok(),
            Some(Target::SqliteFile("/tmp/x.db".into()))
        );
        assert_eq!(
            Target::parse("sqlite::memory:").ok(),
            Some(Target::SqliteMemory)
        );
        assert!(Target::parse("mysql://x").is_err());
        assert!(Target::parse("").is_err());
    }
}
