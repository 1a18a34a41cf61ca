//! Embedded migrations, one folder per backend, applied under a lock so that several
//! instances starting at once apply them exactly once.
//!
//! Adding tables (hosts, grants, POSIX id allocation, ...) means adding a new directory
//! with a later version prefix to both `migrations/sqlite` and `migrations/postgres`, and
//! the tables to `schema.rs`; existing migrations are never edited once released. Both
//! folders must stay equivalent: the same tables, columns, indexes and constraint names
//! (error mapping relies on the unique index names), with portable column types.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::DbConnection;
use crate::error::StoreError;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrating ("sshward\0" as an integer).
const MIGRATION_LOCK: i64 = 0x7373_6877_6172_6400;

/// Applies every pending migration in one transaction and returns the versions applied.
pub(crate) fn run(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            let result = apply(c, SQLITE);
            finish(c, result)?
        }
        DbConnection::Postgres(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN")?;
            let locked = c
                .batch_execute(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .map_err(StoreError::from);
            let result = locked.and_then(|()| apply(c, POSTGRES));
            finish(c, result)?
        }
    };
    Ok(applied)
}

fn apply<C>(conn: &mut C, source: EmbeddedMigrations) -> Result<Vec<String>, StoreError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
    EmbeddedMigrations: MigrationSource<C::Backend>,
{
    conn.run_pending_migrations(source)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect())
        .map_err(|e| StoreError::Migration(e.to_string()))
}

fn finish<C>(
    conn: &mut C,
    result: Result<Vec<String>, StoreError>,
) -> Result<Vec<String>, StoreError>
where
    C: diesel::Connection<TransactionManager = AnsiTransactionManager>,
{
    match result {
        Ok(applied) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(applied)
        }
        Err(err) => {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(conn) {
                log::warn!("rolling back failed migrations: {rollback}");
            }
            Err(err)
        }
    }
}
