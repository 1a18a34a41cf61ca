//! The connection type over both backends, the r2d2 connection manager, and transaction
//! control (`BEGIN IMMEDIATE` for SQLite writes).

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::R2D2Connection;
use diesel::result::Error as DieselError;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::config::{DatabaseUrl, SqliteSync};

/// A database connection to either backend. Queries written against the shared schema
/// run on both; backend-specific statements match on the variant.
#[derive(diesel::MultiConnection)]
pub(crate) enum DbConnection {
    /// Embedded SQLite.
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    Postgres(PgConnection),
}

/// Makes pooled connections for one [`DatabaseUrl`], with SQLite's pragmas applied.
#[derive(Debug)]
pub(crate) struct Manager {
    pub(crate) target: DatabaseUrl,
    pub(crate) busy_timeout_ms: u128,
    pub(crate) synchronous: SqliteSync,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.target {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseUrl::SqliteFile(path) => {
                let path = path.to_str().ok_or_else(|| {
                    diesel::r2d2::Error::ConnectionError(
                        diesel::ConnectionError::InvalidConnectionUrl(
                            "SQLite path is not valid UTF-8".into(),
                        ),
                    )
                })?;
                let mut conn = SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // busy_timeout first, so that switching to WAL waits for other connections.
                // `synchronous` is FULL unless configured: acknowledged means durable.
                // A 2 MiB page cache per connection: at 100,000 users, 8 MiB answered match
                // lookups no faster (the kernel's page cache serves the rest) and cost 60 MB
                // of resident memory over ten connections. The WAL is cut back to 64 MiB
                // after each checkpoint instead of keeping its largest size.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = {};
                     PRAGMA foreign_keys = ON;
                     PRAGMA cache_size = -2048;
                     PRAGMA journal_size_limit = 67108864;",
                    self.busy_timeout_ms,
                    self.synchronous.as_str()
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::SqliteMemory => {
                let mut conn = SqliteConnection::establish(":memory:")
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                conn.batch_execute("PRAGMA foreign_keys = ON;")
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// The kind of transaction to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxKind {
    /// A consistent read-only snapshot.
    Read,
    /// A write transaction (SQLite: `BEGIN IMMEDIATE`, taking the write lock up front so
    /// that a later lock upgrade cannot fail with `SQLITE_BUSY`).
    Write,
}

/// Opens a transaction of the given kind.
pub(crate) fn begin(conn: &mut DbConnection, kind: TxKind) -> Result<(), DieselError> {
    match (conn, kind) {
        (DbConnection::Sqlite(c), TxKind::Write) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        (DbConnection::Sqlite(c), TxKind::Read) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")
        }
        (DbConnection::Postgres(c), TxKind::Write) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN ISOLATION LEVEL READ COMMITTED")
        }
        (DbConnection::Postgres(c), TxKind::Read) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        ),
    }
}

/// Commits the transaction opened by [`begin`].
pub(crate) fn commit(conn: &mut DbConnection) -> Result<(), DieselError> {
    <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)
}

/// Rolls back the transaction opened by [`begin`].
pub(crate) fn rollback(conn: &mut DbConnection) -> Result<(), DieselError> {
    <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn)
}
