//! `sshward access explain`: whether a user may log in (and sudo) on a host, and which
//! grant decides it.

use clap::{Args, Subcommand};
use host_policy::UsernameStyle;
use host_policy::http::service;
use serde_json::json;
use store::{PosixKind, PosixSettings, TeamId, Tx};

use super::host::{agent, find as find_host};
use super::token::TeamArg;
use crate::config::Config;
use crate::db::{self, Open};
use crate::error::{Error, Result};
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

/// An absolute path that fits in `/etc/passwd`.
fn passwd_path(what: &str, path: &str) -> Result<String> {
    let ok = path.starts_with('/')
        && !path
            .chars()
            .any(|c| c == ':' || c == ',' || c.is_control() || c.is_whitespace());
    if ok {
        Ok(path.to_owned())
    } else {
        Err(Error::Usage(format!(
            "invalid {what} {path:?}: use an absolute path without spaces, ':' or ','"
        )))
    }
}

fn id_range(text: &str) -> Result<(i64, i64)> {
    let parsed = text
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
    parsed.ok_or_else(|| {
        Error::Usage(format!(
            "invalid id range {text:?}: use MIN-MAX, e.g. 200000-299999"
        ))
    })
}

fn settings(config: &Config, a: SettingsArgs) -> Result<()> {
    let style = a
        .username_style
        .as_deref()
        .map(str::parse::<UsernameStyle>)
        .transpose()
        .map_err(|e| Error::Usage(e.to_string()))?;
    let range = a.id_range.as_deref().map(id_range).transpose()?;
    let home = a
        .home_base
        .as_deref()
        .map(|p| passwd_path("home base", p))
        .transpose()?;
    let shell = a
        .shell
        .as_deref()
        .map(|p| passwd_path("shell", p))
        .transpose()?;
    let change = style.is_some() || range.is_some() || home.is_some() || shell.is_some();
    let store = db::open(config, Open::Existing)?;
    let current = store.write(|tx| -> Result<PosixSettings> {
        let team = db::team(tx, &a.team.team)?;
        let mut s = tx.posix().settings(team.id)?;
        if !change {
            return Ok(s);
        }
        if let Some(style) = style {
            s.username_style = style.as_str().to_owned();
        }
        if let Some((min, max)) = range {
            (s.id_min, s.id_max) = (min, max);
        }
        if let Some(home) = &home {
            s.home_base = home.trim_end_matches('/').to_owned();
        }
        if let Some(shell) = &shell {
            s.shell = shell.clone();
        }
        tx.posix().set_settings(team.id, &s)?;
        db::audit(
            tx,
            &team,
            "admin.posix.settings",
            200,
            "Team",
            &team.slug,
            format!(
                "POSIX settings: {} ids {}-{} home {} shell {}",
                s.username_style, s.id_min, s.id_max, s.home_base, s.shell
            ),
        )?;
        Ok(s)
    })?;
    if a.format.json {
        return output::print_json(&json!({
            "username_style": current.username_style,
            "id_min": current.id_min,
            "id_max": current.id_max,
            "home_base": current.home_base,
            "shell": current.shell,
        }));
    }
    output::print_fields(&[
        ("Username style", current.username_style),
        ("Id range", format!("{}-{}", current.id_min, current.id_max)),
        ("Home base", current.home_base),
        ("Shell", current.shell),
    ])
}

/// The SCIM id of the user named by `key`: an id, a userName or a POSIX name.
fn user_id(tx: &mut Tx<'_>, team: TeamId, slug: &str, key: &str) -> Result<String> {
    if tx.users().get(team, key)?.is_some() {
        return Ok(key.to_owned());
    }
    if let Some(user) = tx.users().get_by_user_name(team, key)? {
        return Ok(user.id);
    }
    match tx.posix().get_by_name(team, key)? {
        Some(id) if id.kind == PosixKind::User => Ok(id.scim_id),
        _ => Err(Error::NotFound(format!(
            "team {slug} has no user with id, userName or POSIX name {key:?}"
        ))),
    }
}

fn explain(config: &Config, a: ExplainArgs) -> Result<()> {
    let store = db::open(config, Open::Existing)?;
    let (team, host, user) = store.read(|tx| -> Result<_> {
        let team = db::team(tx, &a.team.team)?;
        let host = find_host(tx, team.id, &team.slug, &a.host)?;
        let user = user_id(tx, team.id, &team.slug, &a.user)?;
        Ok((team, host, user))
    })?;
    let e = service::explain_access(&store, team.id, host.id, &user).map_err(agent)?;
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
