//! `sshward-agent`: the host agent. It joins a host to an sshward team, then keeps the
//! host's accounts, groups, sudo and sshd in line with the access document sshward serves
//! for it, and answers sshd's `AuthorizedPrincipalsCommand` from the local copy.
//!
//! | command | what |
//! |---|---|
//! | `join` | redeem a join token with the host keys; write the credential, CA keys, host certificates, the sshd drop-in (checked with `sshd -t`) and the sudoers file (checked with `visudo -cf`) |
//! | `run` | follow the server: long-poll the access document and the revocation list, renew host certificates |
//! | `sync` | one pass without waiting |
//! | `principals USER` | sshd's `AuthorizedPrincipalsCommand`: the local document only, never the network; fails closed when it is too old |
//! | `status` | what was applied when |
//! | `uninstall` | expire every managed account, remove the drop-in and the sudoers file |

#![forbid(unsafe_code)]
// Doc comments of the arguments are the --help text, where a URL is plain text.
#![allow(rustdoc::bare_urls)]

mod apply;
mod client;
mod host;
mod reconcile;
mod state;
mod sync;
mod system;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use proto::{AccessDocument, JoinRequest};

use crate::client::Client;
use crate::host::Sshd;
use crate::state::{Joined, State};

#[derive(Parser)]
#[command(version, about = "The sshward host agent")]
struct Cli {
    /// The state directory
    #[arg(long, global = true, value_name = "DIR", default_value = state::DEFAULT_DIR)]
    state_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Join this host to a team with a one-time join token
    Join(JoinArgs),
    /// Follow the server until stopped (the systemd service)
    Run(RunArgs),
    /// Apply the current document and revocation list once
    Sync(RunArgs),
    /// Print USER if USER may log in here (sshd's AuthorizedPrincipalsCommand)
    Principals {
        /// The account sshd asks about
        user: String,
    },
    /// Show what the agent applied and when
    Status,
    /// Expire every account the agent made, remove its sshd drop-in and sudoers file
    Uninstall(SshdArgs),
}

#[derive(Args)]
struct SshdArgs {
    /// The sshd drop-in to write
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/ssh/sshd_config.d/sshward.conf"
    )]
    sshd_config: PathBuf,
    /// sshd's main configuration (checked with `sshd -t -f`)
    #[arg(long, value_name = "FILE", default_value = "/etc/ssh/sshd_config")]
    sshd_main_config: PathBuf,
    /// The command that reloads sshd
    #[arg(long, value_name = "COMMAND", default_value = "systemctl reload ssh")]
    sshd_reload: String,
    /// Do not reload sshd
    #[arg(long)]
    no_reload: bool,
    /// The sudoers file to write
    #[arg(long, value_name = "FILE", default_value = host::SUDOERS)]
    sudoers: PathBuf,
}

impl SshdArgs {
    fn sshd(&self) -> Sshd {
        Sshd {
            drop_in: self.sshd_config.clone(),
            main_config: self.sshd_main_config.clone(),
            reload: (!self.no_reload).then(|| {
                self.sshd_reload
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            }),
        }
    }
}

#[derive(Args)]
struct JoinArgs {
    /// sshward's URL, e.g. https://sshward.example.com
    #[arg(long, value_name = "URL")]
    server: String,
    /// The one-time join token (`sshward host join-token create`)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SSHWARD_JOIN_TOKEN",
        hide_env_values = true
    )]
    token: String,
    /// The host's name in sshward [default: this machine's hostname]
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// A CA certificate (PEM) to trust for the server's TLS instead of the system's roots
    #[arg(long, value_name = "FILE")]
    server_ca: Option<PathBuf>,
    /// The host public keys to certify
    #[arg(long = "host-key", value_name = "FILE", default_values = ["/etc/ssh/ssh_host_ed25519_key.pub"])]
    host_keys: Vec<PathBuf>,
    /// Seconds the last document stays good without the server; then nobody logs in
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400)]
    max_staleness: u64,
    #[command(flatten)]
    sshd: SshdArgs,
    /// Print what would be written and run, change nothing
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
struct RunArgs {
    /// Longest wait of one long poll, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    wait: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let state = State::at(&cli.state_dir);
    let result = match cli.command {
        Command::Join(a) => join(&state, &cli.state_dir, a),
        Command::Run(a) => run(&state, a.wait),
        Command::Sync(_) => sync_once(&state),
        Command::Principals { user } => return principals(&state, &user),
        Command::Status => status(&state),
        Command::Uninstall(a) => uninstall(&state, &a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sshward-agent: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn this_hostname() -> Result<String, String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .map_err(|e| format!("cannot read the hostname ({e}): pass --hostname"))
}

fn join(state: &State, dir: &Path, a: JoinArgs) -> Result<(), String> {
    let hostname = match a.hostname {
        Some(h) => h,
        None => this_hostname()?,
    };
    let key_lines = a
        .host_keys
        .iter()
        .map(|k| {
            std::fs::read_to_string(k)
                .map(|t| t.trim().to_owned())
                .map_err(|e| format!("{}: {e}", k.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let agent = std::env::current_exe().map_err(|e| format!("the agent's own path: {e}"))?;
    let certs: Vec<PathBuf> = a
        .host_keys
        .iter()
        .map(|k| {
            PathBuf::from(format!(
                "{}-cert.pub",
                k.to_string_lossy().trim_end_matches(".pub")
            ))
        })
        .collect();
    let drop_in = host::drop_in(dir, &agent, &certs);
    if a.dry_run {
        println!(
            "# would join {} as {hostname} with {} host key(s)",
            a.server,
            key_lines.len()
        );
        println!("# would write {}:\n{drop_in}", a.sshd.sshd_config.display());
        println!(
            "# would write {}:\n{}",
            a.sshd.sudoers.display(),
            host::sudoers()
        );
        println!(
            "# would run: useradd --system {} ; sshd -t -f {} ; visudo -cf",
            host::PRINCIPALS_USER,
            a.sshd.sshd_main_config.display()
        );
        println!(
            "# would keep the credential, CA keys and documents in {}",
            dir.display()
        );
        return Ok(());
    }
    state
        .create()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let client = Client::new(&a.server, a.server_ca.as_deref(), Duration::from_secs(30))?;
    let answer = client.join(&JoinRequest {
        token: Some(a.token),
        hostname,
        tags: Vec::new(),
        host_keys: key_lines,
    })?;
    state::write_atomic(
        &state.path("credential"),
        answer.credential.as_bytes(),
        0o600,
    )
    .map_err(|e| e.to_string())?;
    let host_certificates = sync::save_certificates(state, &a.host_keys, &answer.certificates)?;
    let joined = Joined {
        server: a.server.trim_end_matches('/').to_owned(),
        host_id: answer.host_id,
        hostname: answer.hostname.clone(),
        max_staleness_secs: a.max_staleness,
        server_ca: a.server_ca,
        host_certificates,
    };
    state.save_joined(&joined).map_err(|e| e.to_string())?;
    sync::ensure_krl(state).map_err(|e| e.to_string())?;
    host::ensure_principals_user()?;
    host::install_sudoers(&a.sshd.sudoers)?;
    // The first document and revocation list before sshd trusts the CA.
    sync_once(state)?;
    a.sshd.sshd().install(&drop_in)?;
    println!(
        "joined as {} (host {}) with tags [{}]; the credential is in {}",
        answer.hostname,
        answer.host_id,
        answer.tags.join(", "),
        state.path("credential").display()
    );
    Ok(())
}

fn client_of(joined: &Joined) -> Result<Client, String> {
    Client::new(
        &joined.server,
        joined.server_ca.as_deref(),
        Duration::from_secs(30),
    )
}

fn sync_once(state: &State) -> Result<(), String> {
    let joined = state.joined()?;
    let client = client_of(&joined)?;
    sync::ensure_krl(state).map_err(|e| e.to_string())?;
    let polled = sync::poll_access(&client, state, &joined, Duration::ZERO);
    sync::report(&client, state, polled.as_ref().err().cloned(), &mut None);
    polled?;
    sync::poll_krl(&client, state, Duration::ZERO)
}

fn run(state: &State, wait: u64) -> Result<(), String> {
    let mut joined = state.joined()?;
    sync::ensure_krl(state).map_err(|e| e.to_string())?;
    let wait = Duration::from_secs(wait.clamp(1, 60));
    let pause = Duration::from_secs(2);
    let krl_state = state.clone();
    let krl_joined = joined.clone();
    // The revocation list has a thread of its own, so a change of either waits for
    // neither.
    let krl = std::thread::spawn(move || -> Result<(), String> {
        let client = client_of(&krl_joined)?;
        loop {
            if let Err(e) = sync::poll_krl(&client, &krl_state, wait) {
                eprintln!("sshward-agent: {e}");
                std::thread::sleep(pause);
            }
        }
    });
    let client = client_of(&joined)?;
    let mut reported = None;
    loop {
        if krl.is_finished() {
            return Err("the revocation-list thread stopped".into());
        }
        let polled = sync::poll_access(&client, state, &joined, wait);
        if let Err(e) = &polled {
            eprintln!("sshward-agent: {e}");
        }
        sync::report(
            &client,
            state,
            polled.as_ref().err().cloned(),
            &mut reported,
        );
        if polled.is_err() {
            std::thread::sleep(pause);
        }
        if let Err(e) = sync::renew_if_due(&client, state, &mut joined) {
            eprintln!("sshward-agent: renewing host certificates: {e}");
        }
    }
}

/// sshd's question "which principals may log in as USER?": USER itself when the local
/// document lets USER in and is fresh enough; nothing (and exit 1) otherwise.
fn principals(state: &State, user: &str) -> ExitCode {
    let refuse = |why: &str| {
        eprintln!("sshward-agent: principals {user}: {why}");
        ExitCode::FAILURE
    };
    let Ok(joined) = state.joined() else {
        return refuse("this host has not joined");
    };
    let age = state
        .confirmed_at()
        .map(|at| state::now().saturating_sub(at));
    match age {
        Some(age) if age <= joined.max_staleness_secs => {}
        Some(age) => {
            return refuse(&format!(
                "the access document is {age} s old (max {} s): failing closed",
                joined.max_staleness_secs
            ));
        }
        None => return refuse("no access document yet"),
    }
    let Ok(logins) = std::fs::read_to_string(state.path(sync::LOGINS)) else {
        return refuse("no access document");
    };
    if sync::may_log_in(&logins, user) {
        println!("{user}");
    }
    ExitCode::SUCCESS
}

fn status(state: &State) -> Result<(), String> {
    let joined = state.joined()?;
    let document = sync::current_document(state);
    let age = state
        .confirmed_at()
        .map(|at| state::now().saturating_sub(at));
    println!("server:    {}", joined.server);
    println!("host:      {} (id {})", joined.hostname, joined.host_id);
    match document {
        Some(d) => println!(
            "document:  revision {}, {} users, {} groups",
            d.revision,
            d.users.len(),
            d.groups.len()
        ),
        None => println!("document:  none yet"),
    }
    match age {
        Some(age) => println!(
            "confirmed: {age} s ago (max staleness {} s)",
            joined.max_staleness_secs
        ),
        None => println!("confirmed: never"),
    }
    for c in &joined.host_certificates {
        println!(
            "host cert: {} until {}",
            c.certificate.display(),
            c.valid_before
        );
    }
    Ok(())
}

fn uninstall(state: &State, a: &SshdArgs) -> Result<(), String> {
    let empty = AccessDocument::default();
    let system = system::System::read(Path::new("/")).map_err(|e| e.to_string())?;
    let mut registry = state.registry()?;
    let applied = apply::apply(&reconcile::plan(&empty, &system, &registry), &mut registry);
    state.save_registry(&registry).map_err(|e| e.to_string())?;
    for line in applied.done.iter().chain(&applied.failed) {
        eprintln!("sshward-agent: {line}");
    }
    for path in [&a.sshd_config, &a.sudoers] {
        match std::fs::remove_file(path) {
            Ok(()) => eprintln!("sshward-agent: removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    println!(
        "uninstalled: the accounts sshward made are expired (homes and uids kept); the state \
         in {} stays until you delete it",
        state.path("").display()
    );
    Ok(())
}
