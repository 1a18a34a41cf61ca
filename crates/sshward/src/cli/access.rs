//! `sshward access explain`: whether a user may log in (and sudo) on a host, and which
//! grant decides it.

use clap::{Args, Subcommand};
use host_policy::http::service;
use serde_json::json;
use store::{PosixKind, TeamId, Tx};

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
    }
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
