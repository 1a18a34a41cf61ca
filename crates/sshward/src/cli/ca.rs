//! `sshward ca show|set|rotate` (a team's SSH certificate authorities and their settings)
//! and `sshward ssh-config` (what clients put in `known_hosts` and `ssh_config`).

use app::{CaSettings, CertKind};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::parse_duration;
use super::token::TeamArg;
use crate::config::Config;
use crate::db;
use crate::error::{Error, Result};
use crate::output::{self, Format};

/// CA subcommands.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Show the team's user and host CA keys and the certificate settings
    Show(ShowArgs),
    /// Change the certificate settings
    Set(SetArgs),
    /// Make a new CA key: it signs from now on, the old one stays trusted for the overlap
    Rotate(RotateArgs),
}

/// `ca show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub team: TeamArg,
    #[command(flatten)]
    pub format: Format,
}

/// `ca set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// Longest user certificate (e.g. 16h); it also ends with the access token
    #[arg(long, value_name = "DURATION")]
    pub user_cert_ttl: Option<String>,
    /// Host certificate lifetime (e.g. 30d)
    #[arg(long, value_name = "DURATION")]
    pub host_cert_ttl: Option<String>,
    /// What user certificates permit, comma-separated: permit-pty,
    /// permit-agent-forwarding, permit-port-forwarding, permit-X11-forwarding,
    /// permit-user-rc ("" for none)
    #[arg(long, value_name = "LIST")]
    pub extensions: Option<String>,
    /// DNS suffixes: host certificates also name HOST.SUFFIX, comma-separated ("" for none)
    #[arg(long, value_name = "LIST")]
    pub host_domains: Option<String>,
    /// How long a rotated CA key stays trusted beside the new one (e.g. 7d)
    #[arg(long, value_name = "DURATION")]
    pub rotation_overlap: Option<String>,
    #[command(flatten)]
    pub format: Format,
}

/// `ca rotate`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "kind")]
pub struct RotateArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// Rotate the user CA (the key hosts trust for people's certificates)
    #[arg(long, group = "kind")]
    pub user: bool,
    /// Rotate the host CA (the key clients trust for host certificates)
    #[arg(long, group = "kind")]
    pub host: bool,
    #[command(flatten)]
    pub format: Format,
}

/// `ssh-config`.
#[derive(Debug, Args)]
pub struct SshConfigArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The host name pattern the team's hosts match in `known_hosts` (e.g. *.corp.example)
    #[arg(long, value_name = "PATTERN", default_value = "*")]
    pub hosts: String,
}

/// The CA keys and settings as `ca show --json` prints them.
#[derive(Debug, Serialize)]
struct CaView {
    team: String,
    user_ca_keys: Vec<String>,
    host_ca_keys: Vec<String>,
    user_cert_ttl_secs: u64,
    host_cert_ttl_secs: u64,
    extensions: Vec<&'static str>,
    host_domains: Vec<String>,
    rotation_overlap_secs: u64,
}

/// Runs a CA subcommand.
pub fn run(config: &Config, command: CaCommand) -> Result<()> {
    match command {
        CaCommand::Show(a) => show(config, &a.team, a.format),
        CaCommand::Set(a) => set(config, a),
        CaCommand::Rotate(a) => rotate(config, a),
    }
}

fn show(config: &Config, team: &TeamArg, format: Format) -> Result<()> {
    let team = team.slug(config)?;
    let app = db::app(config)?;
    let settings = app.ca_settings(&team)?;
    let view = CaView {
        user_ca_keys: app.ca_public_keys(&team, CertKind::User)?,
        host_ca_keys: app.ca_public_keys(&team, CertKind::Host)?,
        team,
        user_cert_ttl_secs: settings.user_cert_ttl.as_secs(),
        host_cert_ttl_secs: settings.host_cert_ttl.as_secs(),
        extensions: settings.extensions.names(),
        host_domains: settings.host_domains,
        rotation_overlap_secs: settings.rotation_overlap.as_secs(),
    };
    if format.json {
        return output::print_json(&view);
    }
    let hours = |s: u64| format!("{}h", s / 3600);
    let mut fields = vec![("Team", view.team.clone())];
    fields.extend(key_fields("User CA", &view.user_ca_keys));
    fields.extend(key_fields("Host CA", &view.host_ca_keys));
    fields.extend([
        (
            "User certificates",
            format!(
                "at most {}, {}",
                hours(view.user_cert_ttl_secs),
                view.extensions.join(", ")
            ),
        ),
        ("Host certificates", hours(view.host_cert_ttl_secs)),
        (
            "Host domains",
            if view.host_domains.is_empty() {
                "-".into()
            } else {
                view.host_domains.join(", ")
            },
        ),
        ("Rotation overlap", hours(view.rotation_overlap_secs)),
    ]);
    output::print_fields(&fields)
}

/// One field per CA key: the active one under `label`, rotated ones still trusted under
/// `label (previous)`.
pub fn key_fields(label: &'static str, keys: &[String]) -> Vec<(&'static str, String)> {
    let previous = if label.starts_with("User") {
        "User CA (previous)"
    } else {
        "Host CA (previous)"
    };
    keys.iter()
        .enumerate()
        .map(|(i, k)| (if i == 0 { label } else { previous }, k.clone()))
        .collect()
}

/// A comma-separated list; `""` is the empty list.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn std_duration(text: &str) -> Result<std::time::Duration> {
    let d = parse_duration(text)?;
    Ok(std::time::Duration::from_secs(
        d.whole_seconds().unsigned_abs(),
    ))
}

fn set(config: &Config, a: SetArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let app = db::app(config)?;
    let mut settings: CaSettings = app.ca_settings(&team)?;
    if let Some(t) = &a.user_cert_ttl {
        settings.user_cert_ttl = std_duration(t)?;
    }
    if let Some(t) = &a.host_cert_ttl {
        settings.host_cert_ttl = std_duration(t)?;
    }
    if let Some(t) = &a.rotation_overlap {
        settings.rotation_overlap = std_duration(t)?;
    }
    if let Some(e) = &a.extensions {
        settings.extensions = ssh_ca::Extensions::from_names(&list(e))
            .map_err(|e| Error::Usage(format!("--extensions: {e}")))?;
    }
    if let Some(d) = &a.host_domains {
        settings.host_domains = list(d)
            .into_iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
    }
    app.set_ca_settings(&db::cli_actor(), &team, &settings)?;
    show(config, &TeamArg { team: Some(team) }, a.format)
}

fn rotate(config: &Config, a: RotateArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let kind = if a.host {
        CertKind::Host
    } else {
        CertKind::User
    };
    let app = db::app(config)?;
    let (new, old) = app.rotate_ca(&db::cli_actor(), &team, kind)?;
    if a.format.json {
        return output::print_json(&serde_json::json!({
            "team": team,
            "kind": kind.as_str(),
            "new": new.public_key,
            "retired": old.as_ref().map(|o| &o.public_key),
            "published_until": old.as_ref().and_then(|o| o.published_until).map(output::time),
        }));
    }
    let mut lines = vec![format!("New {kind} CA of team {team}: {}", new.public_key)];
    if let Some(old) = old {
        lines.push(format!(
            "The old key stays trusted until {}: {}",
            old.published_until.map(output::time).unwrap_or_default(),
            old.public_key
        ));
    }
    lines.push(match kind {
        CertKind::User => "Host agents pick up the new key with their next sync.".into(),
        CertKind::Host => format!(
            "Hosts get certificates of the new key when they renew; update clients' known_hosts \
             (sshward ssh-config --team {team})."
        ),
    });
    output::print_lines(&lines)
}

/// Prints the `known_hosts` and `ssh_config` lines of a team.
pub fn ssh_config(config: &Config, a: SshConfigArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    if a.hosts.trim().is_empty() || a.hosts.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Usage(
            "--hosts is one pattern without spaces, e.g. *.corp.example".into(),
        ));
    }
    let app = db::app(config)?;
    let host_cas = app.ca_public_keys(&team, CertKind::Host)?;
    let mut lines = vec![format!(
        "# ~/.ssh/known_hosts: trust the host certificates of team {team}"
    )];
    for key in &host_cas {
        lines.push(format!("@cert-authority {} {key}", a.hosts));
    }
    lines.extend([
        String::new(),
        "# ~/.ssh/config: `sshward login` writes ~/.ssh/id_ed25519-cert.pub, which ssh offers"
            .into(),
        "# with the key; only the user name on the hosts needs saying (see `sshward cert show`)"
            .into(),
        format!("Host {}", a.hosts),
        "    IdentityFile ~/.ssh/id_ed25519".into(),
        "    CertificateFile ~/.ssh/id_ed25519-cert.pub".into(),
    ]);
    output::print_lines(&lines)
}
