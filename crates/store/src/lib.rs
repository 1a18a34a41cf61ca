//! Persistence for sshward: teams, SCIM tokens, SCIM users and groups, group membership,
//! hosts, grants and POSIX identities, and the audit log, on embedded SQLite or on
//! PostgreSQL through one diesel schema.
//!
//! The backend is chosen by the database URL (see [`StoreConfig::url`]). Migrations are
//! embedded, one folder per backend, and applied by [`Store::open`]. All access goes
//! through a closure that receives a [`Tx`]: [`Store::read`] gives a consistent snapshot,
//! [`Store::write`] one transaction (`BEGIN IMMEDIATE` on SQLite) that also bumps the
//! revision of every team it changed.
//!
//! ```no_run
//! use store::{Store, StoreConfig, StoreError};
//!
//! # fn main() -> Result<(), StoreError> {
//! let store = Store::open(&StoreConfig::new("sqlite://sshward.db"))?;
//! let team = store.write(|tx| tx.teams().create("acme", "Acme Corp"))?;
//! let mut user = serde_json::Map::new();
//! user.insert("userName".into(), "alice@acme.example".into());
//! let record = store.write(|tx| tx.users().insert(team.id, user))?;
//! assert_eq!(record.version, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Indexed filters
//!
//! SCIM filters are translated to SQL over indexed columns where possible (see
//! [`filter_sql`] for the list); anything else is answered by an SQL pre-filter followed by
//! `scim_core::filter::matches` over bounded pages.

mod audit;
mod ca;
mod config;
mod connection;
mod console;
mod error;
pub mod filter_sql;
mod grants;
mod hosts;
mod idp;
mod indexed;
mod login;
mod members;
mod migrations;
mod posix;
mod resources;
mod schema;
mod sessions;
mod teams;
mod timestamps;
mod tokens;
mod tx;

use std::sync::Arc;

pub use audit::{Actor, Audit, AuditAction, AuditEntry, AuditQuery, AuditRecord, ScimOp};
pub use ca::{
    CaKeyRecord, CaSettings, CertKind, CertificateQuery, CertificateRecord, Certificates,
    NewCertificate,
};
pub use config::{Backend, DatabaseUrl, SqliteSync, StoreConfig};
pub use console::{
    AdminKind, AdminRecord, CONSOLE_LINK_PREFIX, CONSOLE_SESSION_PREFIX, CONSOLE_VIA, Console,
    LinkRecord,
};
pub use error::StoreError;
pub use grants::{GrantRecord, Grants};
pub use hosts::{
    HOST_CREDENTIAL_PREFIX, HostRecord, HostStatus, Hosts, JOIN_TOKEN_PREFIX, JoinTokenInfo,
};
pub use idp::{EmailDomain, Issuer, SecretRef, TenantId};
pub use login::{Flow, LinkBy, Logins, OidcSettings, OidcSettingsUpdate};
pub use members::{GroupRef, MemberRecord};
pub use posix::{Account, GroupAccount, Posix, PosixId, PosixKind};
pub use resources::{Groups, ListQuery, Page, ResourceRecord, Resources, Sort, SortKey, Users};
pub use scim_core::ResourceKind;
pub use sessions::{SessionRecord, Sessions};
pub use teams::{Team, TeamId, TeamUpdate, Teams, validate_slug};
pub use tokens::{TOKEN_PREFIX, TokenInfo, Tokens};
pub use tx::Tx;

use connection::{DbConnection, Manager, TxKind};

/// Holds the SQLite writer lock of this process and marks the thread as writing.
struct WriteGuard<'a> {
    _held: FifoGuard<'a>,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        WRITING.with(|w| w.set(false));
    }
}

/// How many pooled connections exist, how many are idle, and the most there may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections (idle or in use).
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The pool's size limit.
    pub max: u32,
}

/// A handle on the database: a connection pool. Cheap to clone; `Send + Sync`.
///
/// All calls block; async callers run them on a blocking thread pool
/// (`actix_web::web::block`).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process queue here instead of in
    /// SQLite's busy handler, which polls with sleeps of up to 100 ms: under load that
    /// sleeping, not the work, made the slowest writes slow. Other processes (an admin
    /// command) still meet the busy timeout.
    sqlite_writer: FifoLock,
}

/// A lock that is handed over in the order it was asked for (a ticket lock): with
/// `std::sync::Mutex` a releasing writer often takes the lock again at once, and the
/// unlucky waiter's latency grew to tens of milliseconds.
#[derive(Default)]
struct FifoLock {
    /// (next ticket to hand out, ticket now holding the lock).
    tickets: std::sync::Mutex<(u64, u64)>,
    turn: std::sync::Condvar,
}

impl FifoLock {
    fn lock(&self) -> FifoGuard<'_> {
        let poisoned = std::sync::PoisonError::into_inner;
        let mut t = self.tickets.lock().unwrap_or_else(poisoned);
        let mine = t.0;
        t.0 += 1;
        while t.1 != mine {
            t = self.turn.wait(t).unwrap_or_else(poisoned);
        }
        FifoGuard(self)
    }
}

/// Holds a [`FifoLock`]; releasing admits the next ticket.
struct FifoGuard<'a>(&'a FifoLock);

impl Drop for FifoGuard<'_> {
    fn drop(&mut self) {
        let mut t = self
            .0
            .tickets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.1 += 1;
        drop(t);
        self.0.turn.notify_all();
    }
}

thread_local! {
    /// Whether this thread is inside a write transaction (a nested one would wait for
    /// itself).
    static WRITING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .field("pool", &self.inner.pool.state())
            .finish()
    }
}

impl Store {
    /// Opens the pool described by `config` and, unless `config.run_migrations` is false,
    /// applies pending migrations (under a lock, so concurrent start-ups are safe).
    pub fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        let target = DatabaseUrl::parse(&config.url)?;
        let backend = target.backend();
        if config.pool_size == 0 {
            return Err(StoreError::Config("pool_size must be at least 1".into()));
        }
        let memory = target == DatabaseUrl::SqliteMemory;
        let manager = Manager {
            target,
            busy_timeout_ms: config.busy_timeout.as_millis(),
            synchronous: config.sqlite_synchronous,
        };
        // A private in-memory database lives as long as its one connection.
        let (size, min_idle, idle, lifetime) = if memory {
            (1, Some(1), None, None)
        } else {
            (
                config.pool_size,
                config.min_idle.map(|m| m.min(config.pool_size)),
                config.idle_timeout,
                config.max_lifetime,
            )
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(min_idle)
            .connection_timeout(config.connect_timeout)
            .idle_timeout(idle)
            .max_lifetime(lifetime)
            .test_on_check_out(false)
            .build(manager)?;
        let store = Store {
            inner: Arc::new(Inner {
                pool,
                backend,
                sqlite_writer: FifoLock::default(),
            }),
        };
        if config.run_migrations {
            let applied = store.migrate()?;
            if !applied.is_empty() {
                log::info!(
                    "applied {} migration(s): {}",
                    applied.len(),
                    applied.join(", ")
                );
            }
        }
        Ok(store)
    }

    /// Applies pending migrations and returns the versions applied (empty when the schema
    /// is current). Safe to call from several processes at once.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.inner.pool.get()?;
        migrations::run(&mut conn)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The pool's connections now (for metrics).
    pub fn pool_state(&self) -> PoolState {
        let state = self.inner.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.inner.pool.max_size(),
        }
    }

    /// Checks that a connection can be had and answers a trivial query.
    pub fn ping(&self) -> Result<(), StoreError> {
        use diesel::r2d2::R2D2Connection;
        let mut conn = self.inner.pool.get()?;
        conn.ping().map_err(StoreError::from)
    }

    /// Checks the database's own consistency: SQLite's `PRAGMA integrity_check` (every
    /// page, index and constraint); on PostgreSQL, which checks itself, that it answers.
    /// Returns the problems found (empty when sound).
    pub fn check_integrity(&self) -> Result<Vec<String>, StoreError> {
        use diesel::RunQueryDsl;
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Line {
            #[diesel(sql_type = Text)]
            integrity_check: String,
        }
        let mut conn = self.inner.pool.get()?;
        match &mut *conn {
            connection::DbConnection::Sqlite(c) => {
                let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check").load(c)?;
                Ok(lines
                    .into_iter()
                    .map(|l| l.integrity_check)
                    .filter(|l| l != "ok")
                    .collect())
            }
            connection::DbConnection::Postgres(_) => {
                use diesel::r2d2::R2D2Connection;
                conn.ping()?;
                Ok(Vec::new())
            }
        }
    }

    /// Runs `f` in a read-only transaction that sees one consistent snapshot. Writes
    /// attempted through the [`Tx`] fail with [`StoreError::Invalid`].
    pub fn read<T, E>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.run(TxKind::Read, f)
    }

    /// Runs `f` in one write transaction: everything it does is committed together when it
    /// returns `Ok`, and nothing when it returns `Err`. The revision of every team changed
    /// through the [`Tx`] is incremented once, inside the same transaction.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.run(TxKind::Write, f)
    }

    fn run<T, E>(&self, kind: TxKind, f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let _writer = if kind == TxKind::Write && self.inner.backend == Backend::Sqlite {
            if WRITING.with(std::cell::Cell::get) {
                return Err(StoreError::Invalid(
                    "a write transaction was opened inside another one".into(),
                )
                .into());
            }
            let guard = self.inner.sqlite_writer.lock();
            WRITING.with(|w| w.set(true));
            Some(WriteGuard { _held: guard })
        } else {
            None
        };
        let mut conn = self.inner.pool.get().map_err(StoreError::from)?;
        let conn: &mut DbConnection = &mut conn;
        connection::begin(conn, kind).map_err(StoreError::from)?;
        let mut tx = Tx::new(conn, self.inner.backend, kind == TxKind::Write);
        let result = f(&mut tx).and_then(|value| {
            tx.run_certificate_reviews()?;
            tx.bump_dirty_revisions()?;
            Ok(value)
        });
        match result {
            Ok(value) => {
                connection::commit(conn).map_err(StoreError::from)?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = connection::rollback(conn) {
                    // The pool discards the connection: its transaction state is broken.
                    log::warn!("rollback failed: {rollback}");
                }
                Err(err)
            }
        }
    }
}
