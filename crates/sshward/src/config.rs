//! Configuration: built-in defaults, then a TOML file, then `SSHWARD_*` environment
//! variables, then command-line flags; validated before anything starts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "sshward.toml";
/// Prefix of the environment variables that set options (`SSHWARD_SERVER__LISTEN`).
pub const ENV_PREFIX: &str = "SSHWARD_";
/// Environment variables with the prefix that are not options.
const ENV_RESERVED: [&str; 1] = ["SSHWARD_CONFIG"];
/// Environment variables starting with this are the test suite's, never options.
const ENV_RESERVED_PREFIX: &str = "SSHWARD_TEST_";
/// Log levels accepted by `log.level`.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the embedded SQLite database lives (default database URL only).
    pub data_dir: PathBuf,
    /// The HTTP server.
    pub server: ServerConfig,
    /// The database and its connection pool.
    pub database: DatabaseConfig,
    /// Logging.
    pub log: LogConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// Sign-in with Microsoft Entra ID.
    pub login: crate::login::LoginSection,
    /// Where the key-encryption key is read (`file:/PATH` or `env:NAME`): base64 of 32
    /// random bytes that seal the CA and sign-in keys in the database. Unset with SQLite:
    /// generated once into `<data_dir>/key-encryption-key`. Required with PostgreSQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_encryption_key: Option<String>,
}

/// `[server]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// `IP:PORT` to listen on; port 0 picks a free port.
    pub listen: String,
    /// The URL clients reach the server at; default `http://<listen>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds a client has to send a request's head (line and headers).
    pub header_timeout_secs: u64,
    /// Seconds from a request's start by which its body must have arrived.
    pub body_timeout_secs: u64,
    /// Most requests in flight from one address (0: no limit).
    pub max_requests_per_address: usize,
    /// Failed authentications one address (IPv6: one /64) may have in a burst before its
    /// unauthenticated requests get 429 (0: no limit).
    pub auth_failures_per_address: u32,
    /// Failed authentications against one team, from any address, in a burst (0: no
    /// limit).
    pub auth_failures_per_team: u32,
    /// Seconds in which a spent failure budget is whole again.
    pub auth_failure_window_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// PEM certificate chain: with `tls_private_key`, `serve` speaks https itself
    /// (reloaded on SIGHUP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<PathBuf>,
    /// PEM private key of `tls_certificate` (PKCS#8, PKCS#1 or SEC1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_private_key: Option<PathBuf>,
}

/// `[database]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://...`; default `sqlite://<data_dir>/sshward.db`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Largest number of pooled connections; default [`Config::pool_size`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_size: Option<u32>,
    /// Seconds to wait for a free or a new connection before answering 503.
    pub connect_timeout_secs: u64,
    /// Idle connections are closed after this many seconds (0: never).
    pub idle_timeout_secs: u64,
    /// Connections are replaced after this many seconds (0: never).
    pub max_lifetime_secs: u64,
    /// SQLite: milliseconds a statement waits for another writer's lock.
    pub busy_timeout_ms: u64,
    /// SQLite: `full` (every acknowledged write survives a power cut) or `normal` (faster
    /// writes; a power cut can lose the last ones).
    pub sqlite_synchronous: String,
    /// Apply pending migrations when `serve` and the admin commands open the database.
    pub migrate_on_start: bool,
}

/// `[log]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `off`, `error`, `warn`, `info`, `debug` or `trace`; `RUST_LOG` overrides it.
    pub level: String,
    /// One line per HTTP request (target `sshward::access`).
    pub access_log: bool,
}

/// `[metrics]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `GET /metrics`.
    pub enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./sshward-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            log: LogConfig::default(),
            metrics: MetricsConfig::default(),
            login: crate::login::LoginSection::default(),
            key_encryption_key: None,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            max_body_bytes: scim_api::DEFAULT_MAX_BODY_BYTES,
            workers: 0,
            header_timeout_secs: 10,
            body_timeout_secs: 30,
            max_requests_per_address: 256,
            auth_failures_per_address: 30,
            auth_failures_per_team: 120,
            auth_failure_window_secs: 60,
            shutdown_timeout_secs: 30,
            tls_certificate: None,
            tls_private_key: None,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            pool_size: None,
            connect_timeout_secs: 5,
            idle_timeout_secs: 600,
            max_lifetime_secs: 1800,
            busy_timeout_ms: 10_000,
            sqlite_synchronous: "full".into(),
            migrate_on_start: true,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            access_log: true,
        }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true }
    }
}

/// Options given on the command line; they override every other source.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--log-level`.
    pub log_level: Option<String>,
}

impl Overrides {
    fn pairs(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut out = Vec::new();
        let mut push = |key, flag, value: Option<String>| {
            if let Some(v) = value {
                out.push((key, flag, v));
            }
        };
        push("server.listen", "--listen", self.listen.clone());
        push("server.public_url", "--public-url", self.public_url.clone());
        push(
            "data_dir",
            "--data-dir",
            self.data_dir.as_ref().map(|d| d.display().to_string()),
        );
        push("database.url", "--database-url", self.database_url.clone());
        push("log.level", "--log-level", self.log_level.clone());
        out
    }
}

/// A loaded, validated configuration and where each explicitly set option came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// Option key (`server.listen`) to its source, for options not at their default.
    pub sources: HashMap<String, String>,
}

/// Loads the configuration: defaults, the TOML file (`path`, or `./sshward.toml` if it
/// exists), the `SSHWARD_*` environment, then `overrides`; and validates it.
pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Loaded, Error> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    load_from(path, overrides, &env)
}

/// [`load`] with an explicit environment (for tests).
pub fn load_from(
    path: Option<&Path>,
    overrides: &Overrides,
    env: &[(String, String)],
) -> Result<Loaded, Error> {
    let file = match path {
        Some(p) => {
            if !p.is_file() {
                return Err(Error::Config(format!(
                    "configuration file {} does not exist or is not a file",
                    p.display()
                )));
            }
            Some(p.to_path_buf())
        }
        None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
    };

    let mut builder = config::Config::builder();
    if let Some(f) = &file {
        builder = builder.add_source(
            config::File::from(f.as_path())
                .format(config::FileFormat::Toml)
                .required(true),
        );
    }
    let env_map: config::Map<String, String> = env
        .iter()
        .filter(|(k, _)| is_option_var(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        config::Environment::with_prefix(ENV_PREFIX.trim_end_matches('_'))
            .prefix_separator("_")
            .separator("__")
            .source(Some(env_map)),
    );
    let pairs = overrides.pairs();
    for (key, _, value) in &pairs {
        builder = builder
            .set_override(*key, value.clone())
            .map_err(|e| Error::Config(e.to_string()))?;
    }
    let raw = builder
        .build()
        .map_err(|e| config_error(e, file.as_deref()))?;

    let mut sources = HashMap::new();
    collect_sources(&raw, &mut sources);
    for (key, flag, _) in &pairs {
        sources.insert((*key).to_owned(), format!("command line ({flag})"));
    }

    let config: Config = raw
        .try_deserialize()
        .map_err(|e| with_source(config_error(e, file.as_deref()), &sources))?;
    let config = config.validated().map_err(|e| with_source(e, &sources))?;
    Ok(Loaded {
        config,
        file,
        sources,
    })
}

/// True for `SSHWARD_*` variables that set options.
fn is_option_var(name: &str) -> bool {
    name.starts_with(ENV_PREFIX)
        && !name.starts_with(ENV_RESERVED_PREFIX)
        && !ENV_RESERVED.contains(&name)
}

/// The environment variable that sets `key` (`server.listen` -> `SSHWARD_SERVER__LISTEN`).
pub fn env_var_for(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.to_ascii_uppercase().replace('.', "__")
    )
}

/// Records the origin of every leaf value of the raw configuration.
fn collect_sources(raw: &config::Config, out: &mut HashMap<String, String>) {
    fn walk(
        prefix: &str,
        table: config::Map<String, config::Value>,
        out: &mut HashMap<String, String>,
    ) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            let origin = v.origin().map(str::to_owned);
            match v.into_table() {
                Ok(t) => walk(&key, t, out),
                Err(_) => {
                    let source = match origin.as_deref() {
                        Some("the environment") => format!("environment ({})", env_var_for(&key)),
                        Some(file) => format!("file {file}"),
                        None => "command line".to_owned(),
                    };
                    out.insert(key, source);
                }
            }
        }
    }
    if let Ok(table) = raw.cache.clone().into_table() {
        walk("", table, out);
    }
}

/// Turns the `config` crate's error into one that names the option and its source.
fn config_error(err: config::ConfigError, file: Option<&Path>) -> Error {
    let text = err.to_string();
    let hint = if text.contains("unknown field") {
        match file {
            Some(f) => format!(
                " (check the option names in {} and the {ENV_PREFIX}* environment variables)",
                f.display()
            ),
            None => format!(" (check the {ENV_PREFIX}* environment variables)"),
        }
    } else {
        String::new()
    };
    Error::Config(format!("invalid configuration: {text}{hint}"))
}

/// `err` in the documented form `invalid configuration: KEY ...: PROBLEM (from SOURCE)`,
/// naming where the offending value came from (the file, an `SSHWARD_*` variable, a flag).
fn with_source(err: Error, sources: &HashMap<String, String>) -> Error {
    let Error::Config(text) = err else {
        return err;
    };
    if text.contains("unknown field") {
        // Already names the sources to check.
        return Error::Config(text);
    }
    let rest = text
        .strip_prefix("invalid configuration: ")
        .unwrap_or(&text);
    // The config crate names the key as "... for key `server.listen` in ...".
    let (key, text) = match rest.split_once("for key `").and_then(|(before, after)| {
        let (key, _) = after.split_once('`')?;
        Some((key.to_owned(), before.trim_end()))
    }) {
        Some((key, problem)) => (
            key.clone(),
            format!("invalid configuration: {key}: {problem}"),
        ),
        None => {
            let key = rest.split(" = ").next().unwrap_or_default().to_owned();
            (key, text.clone())
        }
    };
    match sources.get(&key) {
        Some(source) => {
            let source = source
                .strip_prefix("environment (")
                .and_then(|s| s.strip_suffix(')'))
                .unwrap_or(source);
            Error::Config(format!("{text} (from {source})"))
        }
        None => Error::Config(text),
    }
}

fn invalid(key: &str, value: impl std::fmt::Display, problem: &str) -> Error {
    Error::Config(format!("invalid configuration: {key} = {value}: {problem}"))
}

impl Config {
    /// Checks every option and normalises the optional ones (empty strings are unset).
    pub fn validated(mut self) -> Result<Config, Error> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "\"\"", "must not be empty"));
        }
        self.server.listen = self.server.listen.trim().to_owned();
        parse_listen(&self.server.listen)?;
        self.server.public_url = match self.server.public_url.take() {
            Some(u) if u.trim().is_empty() => None,
            Some(u) => Some(validate_public_url(u.trim())?),
            None => None,
        };
        if !(1024..=256 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            return Err(invalid(
                "server.max_body_bytes",
                self.server.max_body_bytes,
                "must be between 1024 (1 KiB) and 268435456 (256 MiB)",
            ));
        }
        if self.server.workers > 1024 {
            return Err(invalid(
                "server.workers",
                self.server.workers,
                "must be at most 1024 (0: one per CPU core)",
            ));
        }
        for (key, value) in [
            (
                "server.header_timeout_secs",
                self.server.header_timeout_secs,
            ),
            ("server.body_timeout_secs", self.server.body_timeout_secs),
        ] {
            if !(1..=600).contains(&value) {
                return Err(invalid(key, value, "must be between 1 and 600"));
            }
        }
        if self.server.max_requests_per_address > 1_000_000 {
            return Err(invalid(
                "server.max_requests_per_address",
                self.server.max_requests_per_address,
                "must be at most 1000000 (0: no limit)",
            ));
        }
        for (key, value) in [
            (
                "server.auth_failures_per_address",
                self.server.auth_failures_per_address,
            ),
            (
                "server.auth_failures_per_team",
                self.server.auth_failures_per_team,
            ),
        ] {
            if value > 1_000_000 {
                return Err(invalid(key, value, "must be at most 1000000 (0: no limit)"));
            }
        }
        if !(1..=86_400).contains(&self.server.auth_failure_window_secs) {
            return Err(invalid(
                "server.auth_failure_window_secs",
                self.server.auth_failure_window_secs,
                "must be between 1 and 86400",
            ));
        }
        if self.server.shutdown_timeout_secs > 3600 {
            return Err(invalid(
                "server.shutdown_timeout_secs",
                self.server.shutdown_timeout_secs,
                "must be at most 3600",
            ));
        }
        self.database.url = match self.database.url.take() {
            Some(u) if u.trim().is_empty() => None,
            Some(u) => Some(validate_database_url(u.trim())?),
            None => None,
        };
        if let Some(n) = self.database.pool_size
            && !(1..=1000).contains(&n)
        {
            return Err(invalid(
                "database.pool_size",
                n,
                "must be between 1 and 1000",
            ));
        }
        match (&self.server.tls_certificate, &self.server.tls_private_key) {
            (Some(_), None) => {
                return Err(Error::Config(
                    "server.tls_certificate is set without server.tls_private_key: set both, or \
                     neither to serve plain http behind a TLS proxy"
                        .into(),
                ));
            }
            (None, Some(_)) => {
                return Err(Error::Config(
                    "server.tls_private_key is set without server.tls_certificate: set both, or \
                     neither to serve plain http behind a TLS proxy"
                        .into(),
                ));
            }
            _ => {}
        }
        if !(1..=600).contains(&self.database.connect_timeout_secs) {
            return Err(invalid(
                "database.connect_timeout_secs",
                self.database.connect_timeout_secs,
                "must be between 1 and 600",
            ));
        }
        if self.database.busy_timeout_ms > 600_000 {
            return Err(invalid(
                "database.busy_timeout_ms",
                self.database.busy_timeout_ms,
                "must be at most 600000",
            ));
        }
        match store::SqliteSync::parse(&self.database.sqlite_synchronous) {
            Ok(mode) => self.database.sqlite_synchronous = mode.as_str().to_owned(),
            Err(_) => {
                return Err(invalid(
                    "database.sqlite_synchronous",
                    format!("{:?}", self.database.sqlite_synchronous),
                    "must be full or normal",
                ));
            }
        }
        self.log.level = self.log.level.trim().to_ascii_lowercase();
        if !LOG_LEVELS.contains(&self.log.level.as_str()) {
            return Err(invalid(
                "log.level",
                format!("{:?}", self.log.level),
                &format!("must be one of {}", LOG_LEVELS.join(", ")),
            ));
        }
        self.login.validate()?;
        self.key_encryption_key = match self.key_encryption_key.take() {
            Some(k) if k.trim().is_empty() => None,
            Some(k) => {
                let parsed: store::SecretRef = k.parse().map_err(|e: store::StoreError| {
                    invalid("key_encryption_key", format!("{k:?}"), &e.to_string())
                })?;
                Some(parsed.to_string())
            }
            None => None,
        };
        Ok(self)
    }

    /// The listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, Error> {
        parse_listen(&self.server.listen)
    }

    /// The public base URL for a server bound to `bound` (the configured one, or
    /// `http://<bound address>`), without a trailing slash.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        match &self.server.public_url {
            Some(u) => u.clone(),
            None => format!("{}://{bound}", self.scheme()),
        }
    }

    /// `https` when `serve` terminates TLS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls().is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The TLS certificate and key files, when both are set.
    pub fn tls(&self) -> Option<(&Path, &Path)> {
        match (&self.server.tls_certificate, &self.server.tls_private_key) {
            (Some(c), Some(k)) => Some((c, k)),
            _ => None,
        }
    }

    /// The public base URL before binding (port 0 stays 0).
    pub fn public_url(&self) -> String {
        match self.listen_addr() {
            Ok(addr) => self.public_url_for(addr),
            Err(_) => format!("{}://{}", self.scheme(), self.server.listen),
        }
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.default_sqlite_path().display()),
        }
    }

    /// The SQLite file of the default database URL.
    pub fn default_sqlite_path(&self) -> PathBuf {
        self.data_dir.join("sshward.db")
    }

    /// The SQLite file the database URL names, if it is a SQLite file.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        sqlite_file(&self.database_url())
    }

    /// The connection pool size in effect: the configured one, or by default 10 on
    /// PostgreSQL and, on SQLite, two per CPU core but at least 4. SQLite runs one writer
    /// at a time and its readers are bound by the cores; every further connection only
    /// adds a page cache (measured at 100,000 users on 2 cores: 4 connections answer the
    /// same requests per second as 10, with 47 MB peak RSS instead of 78 MB).
    pub fn pool_size(&self) -> u32 {
        if let Some(n) = self.database.pool_size {
            return n;
        }
        if matches!(
            store::Backend::of_url(&self.database_url()),
            Ok(store::Backend::Postgres)
        ) {
            return 10;
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        u32::try_from(cores * 2).unwrap_or(u32::MAX).clamp(4, 64)
    }

    /// The store settings.
    pub fn store_config(&self) -> store::StoreConfig {
        let db = &self.database;
        let secs = |s: u64| (s > 0).then(|| Duration::from_secs(s));
        let mut cfg = store::StoreConfig::new(self.database_url());
        cfg.pool_size = self.pool_size();
        cfg.min_idle = Some(1);
        cfg.connect_timeout = Duration::from_secs(db.connect_timeout_secs);
        cfg.idle_timeout = secs(db.idle_timeout_secs);
        cfg.max_lifetime = secs(db.max_lifetime_secs);
        cfg.busy_timeout = Duration::from_millis(db.busy_timeout_ms);
        cfg.sqlite_synchronous =
            store::SqliteSync::parse(&db.sqlite_synchronous).unwrap_or_default();
        cfg.run_migrations = db.migrate_on_start;
        cfg
    }

    /// The SCIM API settings for a server reachable at `public_url`.
    pub fn scim_config(&self, public_url: String) -> scim_api::ScimConfig {
        scim_api::ScimConfig {
            public_url,
            max_body_bytes: self.server.max_body_bytes,
        }
    }

    /// The budgets of failed authentications.
    pub fn failure_limits(&self) -> web_common::FailureLimits {
        web_common::FailureLimits {
            per_address: self.server.auth_failures_per_address,
            per_team: self.server.auth_failures_per_team,
            window: Duration::from_secs(self.server.auth_failure_window_secs),
        }
    }

    /// This configuration with secrets masked, as shown by `check-config`.
    pub fn masked(&self) -> Config {
        let mut c = self.clone();
        c.server.public_url = Some(self.public_url());
        c.database.url = Some(mask_url_password(&self.database_url()));
        c.login = self.login.masked();
        c
    }
}

fn parse_listen(value: &str) -> Result<SocketAddr, Error> {
    value.parse::<SocketAddr>().map_err(|_| {
        invalid(
            "server.listen",
            format!("{value:?}"),
            "not an IP address and port (e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::]:8080)",
        )
    })
}

fn validate_public_url(url: &str) -> Result<String, Error> {
    let bad = |problem| invalid("server.public_url", format!("{url:?}"), problem);
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    if url.contains('?') || url.contains('#') {
        return Err(bad("must not have a query or fragment"));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(bad("must not contain spaces"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn validate_database_url(url: &str) -> Result<String, Error> {
    match store::DatabaseUrl::parse(url) {
        Ok(_) => Ok(url.to_owned()),
        Err(e) => {
            let reason = match e {
                store::StoreError::Config(reason) => reason,
                other => other.to_string(),
            };
            Err(invalid("database.url", mask_url_password(url), &reason))
        }
    }
}

/// The SQLite file named by a database URL (`None` for PostgreSQL, `:memory:` and URLs
/// that name no database).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    store::DatabaseUrl::parse(url)
        .ok()?
        .sqlite_file()
        .map(PathBuf::from)
}

/// `postgres://user:secret@host/db?password=x` -> `postgres://user:****@host/db?password=****`.
pub fn mask_url_password(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let authority_end = out[auth_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| auth_start + i);
        if let Some(at) = out[auth_start..authority_end].rfind('@') {
            let userinfo = &out[auth_start..auth_start + at];
            if let Some(colon) = userinfo.find(':') {
                let from = auth_start + colon + 1;
                let to = auth_start + at;
                out.replace_range(from..to, "****");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=****"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}{}", masked.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults() {
        let l = load_from(None, &Overrides::default(), &[]).unwrap();
        assert_eq!(l.config, Config::default());
        assert_eq!(
            l.config.database_url(),
            "sqlite://./sshward-data/sshward.db"
        );
        assert_eq!(l.config.public_url(), "http://127.0.0.1:8080");
        assert!(l.sources.is_empty());
    }

    #[test]
    fn environment_and_overrides() {
        let e = env(&[
            ("SSHWARD_SERVER__LISTEN", "0.0.0.0:9000"),
            ("SSHWARD_DATABASE__POOL_SIZE", "3"),
            ("SSHWARD_LOG__ACCESS_LOG", "false"),
            ("SSHWARD_DATA_DIR", "/var/lib/x"),
            ("SSHWARD_TEST_PG_URL", "postgres://ignored"),
            ("SSHWARD_CONFIG", "ignored.toml"),
            ("OTHER", "x"),
        ]);
        let o = Overrides {
            log_level: Some("DEBUG".into()),
            ..Overrides::default()
        };
        let l = load_from(None, &o, &e).unwrap();
        assert_eq!(l.config.server.listen, "0.0.0.0:9000");
        assert_eq!(l.config.database.pool_size, Some(3));
        assert_eq!(l.config.pool_size(), 3);
        assert!(!l.config.log.access_log);
        assert_eq!(l.config.log.level, "debug");
        assert_eq!(l.config.database_url(), "sqlite:///var/lib/x/sshward.db");
        assert_eq!(
            l.sources.get("database.pool_size").map(String::as_str),
            Some("environment (SSHWARD_DATABASE__POOL_SIZE)")
        );
        assert_eq!(
            l.sources.get("log.level").map(String::as_str),
            Some("command line (--log-level)")
        );
    }

    #[test]
    fn invalid_values_name_the_option() {
        let cases = [
            ("SSHWARD_SERVER__LISTEN", "localhost", "server.listen"),
            ("SSHWARD_DATABASE__POOL_SIZE", "0", "database.pool_size"),
            ("SSHWARD_DATABASE__POOL_SIZE", "many", "pool_size"),
            ("SSHWARD_LOG__LEVEL", "loud", "log.level"),
            ("SSHWARD_SERVER__PUBLIC_URL", "ftp://x", "server.public_url"),
            ("SSHWARD_DATABASE__URL", "mysql://x", "database.url"),
            ("SSHWARD_SERVER__NOPE", "1", "nope"),
            ("SSHWARD_NOPE", "1", "nope"),
        ];
        for (k, v, needle) in cases {
            let err = load_from(None, &Overrides::default(), &env(&[(k, v)])).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(needle), "{k}={v}: {text}");
            assert_eq!(err.exit_code(), 3);
        }
    }

    #[test]
    fn failure_budgets_from_the_environment() {
        let e = env(&[
            ("SSHWARD_SERVER__AUTH_FAILURES_PER_ADDRESS", "5"),
            ("SSHWARD_SERVER__AUTH_FAILURES_PER_TEAM", "0"),
            ("SSHWARD_SERVER__AUTH_FAILURE_WINDOW_SECS", "10"),
        ]);
        let l = load_from(None, &Overrides::default(), &e).unwrap();
        let limits = l.config.failure_limits();
        assert_eq!(limits.per_address, 5);
        assert_eq!(limits.per_team, 0);
        assert_eq!(limits.window, Duration::from_secs(10));
        for (k, v) in [
            ("SSHWARD_SERVER__AUTH_FAILURE_WINDOW_SECS", "0"),
            ("SSHWARD_SERVER__AUTH_FAILURES_PER_TEAM", "2000000"),
        ] {
            let err = load_from(None, &Overrides::default(), &env(&[(k, v)])).unwrap_err();
            assert!(
                err.to_string().contains(&k[16..].to_ascii_lowercase()),
                "{err}"
            );
        }
    }

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_url_password("postgres://u:secret@h:5432/db?sslmode=require&password=x"),
            "postgres://u:****@h:5432/db?sslmode=require&password=****"
        );
        assert_eq!(mask_url_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url_password("sqlite://./a.db"), "sqlite://./a.db");
    }

    #[test]
    fn pool_size_defaults_by_backend() {
        let mut c = Config::default();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(c.pool_size() as usize, (cores * 2).clamp(4, 64));
        c.database.url = Some("postgres://h/db".into());
        assert_eq!(c.pool_size(), 10);
        c.database.pool_size = Some(7);
        assert_eq!(c.pool_size(), 7);
    }

    #[test]
    fn sqlite_files() {
        assert_eq!(
            sqlite_file("sqlite://a/b.db"),
            Some(PathBuf::from("a/b.db"))
        );
        assert_eq!(sqlite_file("sqlite:b.db"), Some(PathBuf::from("b.db")));
        assert_eq!(sqlite_file("/x.db"), Some(PathBuf::from("/x.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
