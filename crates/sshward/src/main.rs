//! `sshward`: the server (`sshward serve`) and the admin CLI, one binary.
//!
//! This file only parses the command line and dispatches; every command lives in its
//! own module.

// The clap doc comments are the CLI's help text, printed as written: a URL in them stays
// bare rather than gaining rustdoc's <...>.
#![allow(rustdoc::bare_urls)]

mod access_log;
mod bootstrap;
mod cli;
mod config;
mod db;
mod error;
mod health;
mod keys;
mod limits;
mod logging;
mod login;
mod metrics;
mod normalize_path;
mod openapi;
mod output;
mod serve;
mod tls;

/// mimalloc instead of glibc's malloc: the server allocates small, short-lived objects
/// on many threads, where glibc spends noticeable time and keeps fragmented per-thread
/// arenas (peak RSS).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;
use crate::error::Error;
use crate::output::Format;

/// sshward: SSH access driven by your identity provider. `sshward serve` runs the
/// server (the SCIM API that Microsoft Entra ID provisions into); the other commands
/// administer the same database directly.
#[derive(Debug, Parser)]
#[command(
    name = "sshward",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes; they override the configuration file and environment.
#[derive(Debug, Args)]
#[command(next_help_heading = "Configuration")]
struct GlobalArgs {
    /// Configuration file (TOML) [default: ./sshward.toml if it exists]
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "SSHWARD_CONFIG",
        value_name = "PATH"
    )]
    config: Option<PathBuf>,
    /// Data directory for the embedded SQLite database (option data_dir)
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (option database.url)
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Address to listen on, IP:PORT (option server.listen)
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<String>,
    /// Base URL clients use to reach the server (option server.public_url)
    #[arg(long, global = true, value_name = "URL")]
    public_url: Option<String>,
    /// Log level: off, error, warn, info, debug, trace (option log.level; RUST_LOG wins)
    #[arg(long, global = true, value_name = "LEVEL")]
    log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: the SCIM API, health checks and metrics
    ///
    /// On the first run against an empty database it creates the team `default` and
    /// prints its SCIM Tenant URL and Secret Token once; later runs print the URL only.
    Serve,
    /// Apply pending database migrations, then exit
    Migrate(Format),
    /// Check the database's consistency (SQLite's integrity check), e.g. after a crash
    CheckDatabase(Format),
    /// Validate the configuration and print it as in effect, secrets masked
    CheckConfig(Format),
    /// Create, list, show and change teams
    #[command(subcommand)]
    Team(cli::team::TeamCommand),
    /// Create, list and revoke a team's SCIM bearer tokens
    #[command(subcommand)]
    Token(cli::token::TokenCommand),
    /// List and show SCIM users
    #[command(subcommand)]
    Users(cli::users::UsersCommand),
    /// List and show SCIM groups
    #[command(subcommand)]
    Groups(cli::groups::GroupsCommand),
    /// Show the audit log, newest first
    Audit(cli::audit::AuditArgs),
    /// Sign in to a team from this terminal (browser or device code) and keep an access token
    Login(cli::login::LoginArgs),
    /// Join tokens and hosts: create tokens, list, show and remove hosts
    #[command(subcommand)]
    Host(cli::host::HostCommand),
    /// Grant groups ssh or sudo access to hosts selected by tags
    #[command(subcommand)]
    Grant(cli::grant::GrantCommand),
    /// Explain who may log in where, and why
    #[command(subcommand)]
    Access(cli::access::AccessCommand),
    /// SSH certificates: list and revoke a team's, show your own
    #[command(subcommand)]
    Cert(cli::cert::CertCommand),
    /// Web console administrators and one-time console sign-in links
    #[command(subcommand)]
    Admin(cli::console_admin::AdminCommand),
    /// Sign-in sessions: list who is signed in, end a person's sessions
    #[command(subcommand)]
    Sessions(cli::sessions::SessionsCommand),
    /// A team's SSH certificate authorities: show, settings, rotation
    #[command(subcommand)]
    Ca(cli::ca::CaCommand),
    /// Print the known_hosts and ssh_config lines that make clients trust a team's hosts
    SshConfig(cli::ca::SshConfigArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sshward: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Prints clap's message: help and version as they are (exit 0), errors in the form of
/// every other error, `sshward: error: ...` (exit 2).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    // Help and version (also the help shown for a missing subcommand): clap's text and
    // its exit code (0, or 2 for the missing subcommand).
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let text = e.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    eprint!("sshward: error: {text}");
    ExitCode::from(2)
}

fn run(cli: Cli) -> Result<(), Error> {
    let g = cli.global;
    let overrides = Overrides {
        listen: g.listen,
        public_url: g.public_url,
        data_dir: g.data_dir,
        database_url: g.database_url,
        log_level: g.log_level,
    };
    let loaded = config::load(g.config.as_deref(), &overrides)?;
    match cli.command {
        Command::Serve => {
            logging::init(&loaded.config.log.level);
            serve::run(&loaded.config)
        }
        command => {
            // Admin commands print their results; logs only for problems.
            logging::init("warn");
            match command {
                Command::Serve => Ok(()),
                Command::Migrate(f) => cli::admin::migrate(&loaded.config, f),
                Command::CheckConfig(f) => cli::admin::check_config(&loaded, f),
                Command::CheckDatabase(f) => cli::admin::check_database(&loaded.config, f),
                Command::Team(c) => cli::team::run(&loaded.config, c),
                Command::Token(c) => cli::token::run(&loaded.config, c),
                Command::Users(c) => cli::users::run(&loaded.config, c),
                Command::Groups(c) => cli::groups::run(&loaded.config, c),
                Command::Audit(a) => cli::audit::run(&loaded.config, a),
                Command::Login(a) => cli::login::run(a),
                Command::Host(c) => cli::host::run(&loaded.config, c),
                Command::Grant(c) => cli::grant::run(&loaded.config, c),
                Command::Access(c) => cli::access::run(&loaded.config, c),
                Command::Cert(c) => cli::cert::run(&loaded.config, c),
                Command::Ca(c) => cli::ca::run(&loaded.config, c),
                Command::Sessions(c) => cli::sessions::run(&loaded.config, c),
                Command::Admin(c) => cli::console_admin::run(&loaded.config, c),
                Command::SshConfig(a) => cli::ca::ssh_config(&loaded.config, a),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
