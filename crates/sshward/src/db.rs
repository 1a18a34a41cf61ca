//! Opening the database for a command, and looking things up by name.

use store::Store;

use crate::config::Config;
use crate::error::{Error, Result};

/// Whether a command may create a new SQLite database file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// `serve`, `migrate` and `team create`: create the file (and its directory).
    CreateIfMissing,
    /// Every other command: the database must exist.
    Existing,
}

/// Opens the store described by `config` for a command; migrations run per
/// `database.migrate_on_start`.
pub fn open(config: &Config, mode: Open) -> Result<Store> {
    open_with(config, mode, config.database.migrate_on_start)
}

/// Opens the store for `sshward serve` (creating a new SQLite database), keeping one
/// idle connection ready.
pub fn open_for_server(config: &Config) -> Result<Store> {
    let mut store_config = prepare(config, Open::CreateIfMissing)?;
    store_config.run_migrations = config.database.migrate_on_start;
    open_store(&store_config)
}

/// [`open`] with an explicit choice about migrations.
pub fn open_with(config: &Config, mode: Open, migrate: bool) -> Result<Store> {
    let mut store_config = prepare(config, mode)?;
    store_config.run_migrations = migrate;
    // A command uses a connection or two and exits: no idle connection is kept ready.
    // (With one, the pool replaces a connection taken out on a background thread, which
    // could still be connecting when the process exits: libpq's Kerberos library then
    // aborted the exit, "k5_mutex_lock: Received error 22", failing a finished command.)
    store_config.min_idle = Some(0);
    open_store(&store_config)
}

/// Checks that a SQLite database exists (or creates its directory, per `mode`) and
/// returns the store settings of `config`.
fn prepare(config: &Config, mode: Open) -> Result<store::StoreConfig> {
    if let Some(path) = config.sqlite_path()
        && !path.exists()
    {
        if mode == Open::Existing {
            return Err(Error::Config(format!(
                "no database at {} (start `sshward serve` or run `sshward migrate` first, \
                 or point --data-dir / database.url at the right place)",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        create_private_file(&path)?;
    }
    Ok(config.store_config())
}

/// Creates the empty database file readable by its owner only (0600); SQLite gives its
/// `-wal` and `-shm` files the same mode. (It would make the file 0644 itself.)
fn create_private_file(path: &std::path::Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Other(format!(
            "cannot create the database {}: {e}",
            path.display()
        ))),
    }
}

fn open_store(store_config: &store::StoreConfig) -> Result<Store> {
    let masked = crate::config::mask_url_password(&store_config.url);
    Store::open(store_config).map_err(|err| match err {
        store::StoreError::Config(msg) => Error::Config(format!(
            "invalid configuration: database.url = {masked}: {msg}"
        )),
        other => Error::Other(format!("cannot open the database {masked}: {other}")),
    })
}

/// Creates `dir` (and its parents); new directories are private to the user (0700).
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        Error::Other(format!(
            "cannot create the data directory {}: {e}",
            dir.display()
        ))
    })
}

/// The application layer over the existing database of `config`.
pub fn app(config: &Config) -> Result<app::App> {
    crate::keys::app(config, open(config, Open::Existing)?)
}

/// Who is acting, for audit entries written by the admin CLI: the operator by OS user.
pub fn cli_actor() -> app::Actor {
    let user = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(os_user)
        .unwrap_or_else(|| "unknown".to_owned());
    app::Actor::Operator(user)
}

/// The name of the process's real user from /proc and /etc/passwd (Linux), or `uid:N`.
fn os_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_owned())
    });
    Some(name.unwrap_or_else(|| format!("uid:{uid}")))
}
