//! Test databases: a temporary SQLite file, or a PostgreSQL database of its own on the
//! server named by `SSHWARD_TEST_PG_URL`, removed when dropped.
//!
//! PostgreSQL tests are skipped (with a message) when `SSHWARD_TEST_PG_URL` is not set,
//! and fail instead when `CI=true` (see [`crate::required_env`]); `scripts/test.sh`
//! starts a throw-away PostgreSQL and sets it.
//!
//! A migrated PostgreSQL database ([`postgres`]) is a copy of a migrated template
//! (`CREATE DATABASE ... TEMPLATE`). The template is made once per migration set, under
//! an advisory lock, so that test processes started in parallel by cargo-nextest never
//! race on it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use store::{Store, StoreConfig, TeamId};

pub use store::Backend;

/// The environment variable holding the PostgreSQL superuser URL of the test server.
pub const PG_URL_VAR: &str = "SSHWARD_TEST_PG_URL";

/// Key of the advisory lock that serialises template creation and copies.
const TEMPLATE_LOCK: i64 = 0x7373_6877_7465_7374;

/// The PostgreSQL migrations of the store crate: their contents name the template.
const PG_MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../store/migrations/postgres");

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database for one test, with an open store; removed on drop.
pub struct TestDb {
    /// The backend the database is on.
    pub backend: Backend,
    /// The URL a `Store` opens.
    pub url: String,
    // Fields drop in order: the pool closes before the database is removed.
    store: Store,
    _scratch: Scratch,
}

/// An empty database (no tables); removed on drop.
pub struct Scratch {
    /// The backend the database is on.
    pub backend: Backend,
    /// The URL a `Store` opens.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Files(PathBuf),
    Database { admin_url: String, name: String },
}

fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{n}_{nanos:x}", std::process::id())
}

/// A configuration for tests: a pool big enough for the concurrency tests.
pub fn config(url: &str) -> StoreConfig {
    let mut config = StoreConfig::new(url);
    config.pool_size = 12;
    config.min_idle = Some(1);
    config.connect_timeout = Duration::from_secs(30);
    config.busy_timeout = Duration::from_secs(30);
    config
}

/// An empty database on `backend`, or `None` when PostgreSQL tests are skipped.
pub fn empty(backend: Backend) -> Option<Scratch> {
    match backend {
        Backend::Sqlite => Some(empty_sqlite()),
        Backend::Postgres => empty_postgres(),
    }
}

/// An empty SQLite database file in the temporary directory (created on first
/// connection).
pub fn empty_sqlite() -> Scratch {
    let path = std::env::temp_dir().join(format!("sshward-store-test-{}.db", unique_suffix()));
    Scratch {
        backend: Backend::Sqlite,
        url: format!("sqlite://{}", path.display()),
        cleanup: Cleanup::Files(path),
    }
}

/// A fresh, migrated SQLite database in a temporary file.
pub fn sqlite() -> TestDb {
    let scratch = empty_sqlite();
    let store = Store::open(&config(&scratch.url)).expect("open SQLite store");
    TestDb {
        backend: Backend::Sqlite,
        url: scratch.url.clone(),
        store,
        _scratch: scratch,
    }
}

/// The PostgreSQL superuser URL, or `None` (after saying so) when tests should skip.
/// With `CI=true` a missing URL is a failure, never a silent skip.
pub fn pg_admin_url() -> Option<String> {
    crate::required_env(
        PG_URL_VAR,
        "PostgreSQL",
        "scripts/test.sh starts a throw-away PostgreSQL and sets it",
    )
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// FNV-1a over the PostgreSQL migration files, so a changed migration set gets a new
/// template.
fn migrations_fingerprint() -> u64 {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir)
            .expect("read migrations dir")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let root = Path::new(PG_MIGRATIONS);
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let bytes = std::fs::read(&file).expect("read migration");
        for b in name.bytes().chain(bytes) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn exists(admin: &mut PgConnection, name: &str) -> bool {
    diesel::select(
        diesel::dsl::sql::<diesel::sql_types::Bool>(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = ",
        )
        .bind::<diesel::sql_types::Text, _>(name)
        .sql(")"),
    )
    .get_result(admin)
    .expect("query pg_database")
}

/// Creates a database on the test server, from `template` when given.
fn create_pg_database(template: Option<&str>) -> Option<Scratch> {
    let admin_url = pg_admin_url()?;
    let name = format!("sshward_t_{}", unique_suffix());
    let mut admin = PgConnection::establish(&admin_url).expect("connect to SSHWARD_TEST_PG_URL");
    let sql = match template {
        Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
        None => format!("CREATE DATABASE {name}"),
    };
    admin.batch_execute(&sql).expect("create test database");
    Some(Scratch {
        backend: Backend::Postgres,
        url: with_database(&admin_url, &name),
        cleanup: Cleanup::Database { admin_url, name },
    })
}

/// An empty PostgreSQL database, or `None` when PostgreSQL tests are skipped.
pub fn empty_postgres() -> Option<Scratch> {
    create_pg_database(None)
}

/// Makes sure the migrated template database for the current migration set exists.
/// Several test processes may get here at once: an advisory lock lets one build it
/// while the others wait, and copies are made under the same lock, so that no copy
/// ever sees the template while a connection to it is open.
fn template(admin_url: &str) -> String {
    let template = format!("sshward_tmpl_{:016x}", migrations_fingerprint());
    let mut admin = PgConnection::establish(admin_url).expect("connect to SSHWARD_TEST_PG_URL");
    admin
        .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .expect("advisory lock");
    let made = (|| -> Result<(), String> {
        if !exists(&mut admin, &template) {
            // Build under a temporary name and rename, so that a crash half-way never
            // leaves a broken template behind.
            let building = format!("{template}_building");
            // One statement per call: several would run as one transaction, and
            // CREATE/DROP DATABASE refuse to run inside one.
            let run = |admin: &mut PgConnection, sql: &str| {
                admin.batch_execute(sql).map_err(|e| format!("{sql}: {e}"))
            };
            run(
                &mut admin,
                &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            )?;
            run(&mut admin, &format!("CREATE DATABASE {building}"))?;
            let mut cfg = config(&with_database(admin_url, &building));
            cfg.pool_size = 1;
            let store = Store::open(&cfg).map_err(|e| e.to_string())?;
            drop(store);
            run(
                &mut admin,
                &format!("ALTER DATABASE {building} WITH ALLOW_CONNECTIONS false"),
            )?;
            run(
                &mut admin,
                &format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{building}'"
                ),
            )?;
            run(
                &mut admin,
                &format!("ALTER DATABASE {building} RENAME TO {template}"),
            )?;
        }
        Ok(())
    })();
    admin
        .batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .expect("advisory unlock");
    made.expect("create template database");
    template
}

/// A fresh, migrated PostgreSQL database, or `None` when PostgreSQL tests are skipped.
pub fn postgres() -> Option<TestDb> {
    let admin_url = pg_admin_url()?;
    let template = template(&admin_url);
    let scratch = create_pg_database(Some(&template))?;
    let store = Store::open(&config(&scratch.url)).expect("open PostgreSQL store");
    Some(TestDb {
        backend: Backend::Postgres,
        url: scratch.url.clone(),
        store,
        _scratch: scratch,
    })
}

impl TestDb {
    /// The store under test.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A second, independent store (its own pool) on the same database: "another
    /// instance".
    pub fn another_instance(&self) -> Store {
        Store::open(&config(&self.url)).expect("open second store")
    }

    /// Runs raw SQL on a separate connection (for tests that tamper with the schema).
    pub fn raw_execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut conn = SqliteConnection::establish(path).expect("raw SQLite connection");
                conn.batch_execute(sql).expect("raw SQL");
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).expect("raw PG connection");
                conn.batch_execute(sql).expect("raw SQL");
            }
        }
    }

    /// Creates a team.
    pub fn team(&self, slug: &str) -> TeamId {
        self.store()
            .write(|tx| tx.teams().create(slug, slug))
            .expect("create team")
            .id
    }
}

/// A new team `slug` in `store` with one SCIM token labelled `entra`: the team's id, the
/// token's id and its secret.
pub fn team_with_token(store: &Store, slug: &str) -> (TeamId, i64, String) {
    store
        .write(|tx| {
            let team = tx.teams().create(slug, slug)?;
            let (info, secret) = tx.tokens().create(team.id, "entra", None)?;
            Ok::<_, store::StoreError>((team.id, info.id, secret))
        })
        .expect("create a team and its token")
}

impl Scratch {
    /// The PostgreSQL database's name (`None` on SQLite).
    pub fn pg_name(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::Database { name, .. } => Some(name),
            Cleanup::Files(_) => None,
        }
    }

    /// Runs `sql` as the PostgreSQL superuser, connected to the server's default database
    /// (to make this database unavailable and available again, for example). Panics on
    /// SQLite or when the SQL fails.
    pub fn pg_admin(&self, sql: &str) {
        let Cleanup::Database { admin_url, .. } = &self.cleanup else {
            panic!("pg_admin on a SQLite database");
        };
        let mut admin = PgConnection::establish(admin_url).expect("connect as admin");
        admin
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Files(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_urls() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
