//! `sshward access explain`: whether a user may log in (and sudo) on a host, and which
//! grant decides it.

use app::PosixSettingsChange;
use clap::{Args, Subcommand};
use serde_json::json;

use super::token::TeamArg;
use crate::config::Config;
use crate::db;
use crate::error::Result;
use crate::output::{self, Format};

/// Access subcommands.
#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Explain whether a user may log in to a host and why
    Explain(ExplainArgs),
    /// Show or change the team's POSIX settings (user names, id range, home, shell)
    ///
    /// Changes apply to identities allocated from then on: existing users keep their
    /// name, uid and home.
    Settings(SettingsArgs),
}

/// `access settings`.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// How user names are derived from userName: local-part, local-part-without-dots
    /// or address
    #[arg(long, value_name = "STYLE")]
    pub username_style: Option<String>,
    /// The uid/gid range, MIN-MAX (e.g. 200000-299999)
    #[arg(long, value_name = "MIN-MAX")]
    pub id_range: Option<String>,
    /// The parent directory of home directories (e.g. /home)
    #[arg(long, value_name = "DIR")]
    pub home_base: Option<String>,
    /// The login shell (e.g. /bin/bash)
    #[arg(long, value_name = "PATH")]
    pub shell: Option<String>,
    /// Names no user or group may get, beyond the built-in list (the admin accounts of
    /// your own images), comma-separated; "" clears
    #[arg(long, value_name = "NAMES")]
    pub reserve: Option<String>,
    #[command(flatten)]
    pub format: Format,
}

/// `access explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The host: hostname or id
    #[arg(long, value_name = "HOST")]
    pub host: String,
    /// The user: SCIM id, userName or POSIX user name
    #[arg(long, value_name = "USER")]
    pub user: String,
    #[command(flatten)]
    pub format: Format,
}

/// Runs an access subcommand.
pub fn run(config: &Config, command: AccessCommand) -> Result<()> {
    match command {
        AccessCommand::Explain(a) => explain(config, a),
        AccessCommand::Settings(a) => settings(config, a),
    }
}

fn settings(config: &Config, a: SettingsArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    fn parsed<T: std::str::FromStr<Err = host_policy::PolicyError>>(
        text: Option<&String>,
    ) -> Result<Option<T>> {
        Ok(text.map(|t| t.parse()).transpose()?)
    }
    let change = PosixSettingsChange {
        id_range: parsed(a.id_range.as_ref())?,
        username_style: parsed(a.username_style.as_ref())?,
        home_base: parsed(a.home_base.as_ref())?,
        shell: parsed(a.shell.as_ref())?,
        reserved: a
            .reserve
            .as_deref()
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::parse)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?,
    };
    let app = db::app(config)?;
    let current = if change.is_empty() {
        app.posix_settings(&team)?
    } else {
        app.set_posix_settings(&db::cli_actor(), &team, &change)?
    };
    if a.format.json {
        return output::print_json(&json!({
            "username_style": current.username_style.as_str(),
            "id_min": current.id_range.min(),
            "id_max": current.id_range.max(),
            "home_base": current.home_base.to_string(),
            "shell": current.shell.as_str(),
            "reserved": current.reserved.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        }));
    }
    output::print_fields(&[
        ("Username style", current.username_style.to_string()),
        ("Id range", current.id_range.to_string()),
        ("Home base", current.home_base.to_string()),
        ("Shell", current.shell.to_string()),
        (
            "Reserved",
            if current.reserved.is_empty() {
                "- (the built-in list only)".to_owned()
            } else {
                current
                    .reserved
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
    ])
}

fn explain(config: &Config, a: ExplainArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let explained = db::app(config)?.explain(&team, &a.host, &a.user)?;
    let (e, user) = (explained.explanation, explained.user_id);
    if a.format.json {
        let checks: Vec<_> = e
            .checks
            .iter()
            .map(|c| {
                json!({
                    "grant": c.grant_id,
                    "group_id": c.group_id,
                    "group": c.group_name,
                    "role": c.role,
                    "hosts": c.hosts.to_string(),
                    "applies": c.applies(),
                    "reasons": c.reasons.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })
            })
            .collect();
        return output::print_json(&json!({
            "host": e.hostname,
            "host_tags": e.host_tags,
            "user": e.user,
            "user_id": user,
            "state": format!("{:?}", e.state).to_lowercase(),
            "access": e.access,
            "grants": checks,
        }));
    }
    let text = e.to_string();
    output::print_lines(&text.lines().map(str::to_owned).collect::<Vec<_>>())
}
