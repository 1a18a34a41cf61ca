//! `sshward grant add|list|remove`: grants of host access to IdP groups. A grant names
//! the group by its immutable SCIM id (the CLI accepts a displayName and resolves it once,
//! when the grant is made), so renaming the group keeps the grant and a new group with
//! the old name gets nothing.

use clap::{Args, Subcommand};
use host_policy::username::is_valid_name;
use host_policy::{HostSelector, Role};
use serde::Serialize;
use serde_json::Value;
use store::{GrantRecord, TeamId, Tx};
use time::OffsetDateTime;

use super::token::TeamArg;
use crate::config::Config;
use crate::db::{self, Open};
use crate::error::{Error, Result};
use crate::output::{self, Format, Table};

/// Grant subcommands.
#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Let the members of a group log in (or sudo) on the hosts with some tags
    Add(AddArgs),
    /// List the team's grants
    List(ListArgs),
    /// Remove a grant by id
    Remove(RemoveArgs),
}

/// `grant add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The group: its SCIM id or its current displayName
    #[arg(long, value_name = "NAME-OR-ID")]
    pub group: String,
    /// The hosts: key=value[,key=value...] (hosts with all these tags), or '*' for all
    #[arg(long, value_name = "SELECTOR")]
    pub hosts: String,
    /// Also let them become root with sudo
    #[arg(long)]
    pub sudo: bool,
    /// A local group on the hosts to put the members in, e.g. docker (repeatable)
    #[arg(long = "extra-group", value_name = "NAME")]
    pub extra_groups: Vec<String>,
    #[command(flatten)]
    pub format: Format,
}

/// `grant list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub team: TeamArg,
    #[command(flatten)]
    pub format: Format,
}

/// `grant remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The grant's id (see `sshward grant list`)
    pub id: i64,
    #[command(flatten)]
    pub format: Format,
}

/// A grant in output, with the group's current display name.
#[derive(Debug, Serialize)]
struct GrantRow {
    id: i64,
    group_id: String,
    group: String,
    hosts: String,
    role: String,
    extra_groups: Vec<String>,
    #[serde(with = "output::rfc3339")]
    created: OffsetDateTime,
}

fn row(tx: &mut Tx<'_>, team: TeamId, g: GrantRecord) -> Result<GrantRow> {
    let group = tx
        .groups()
        .get(team, &g.group_id)?
        .and_then(|r| {
            r.data
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".into());
    Ok(GrantRow {
        id: g.id,
        group_id: g.group_id,
        group,
        hosts: g.hosts,
        role: g.role,
        extra_groups: g.extra_groups,
        created: g.created,
    })
}

/// Runs a grant subcommand.
pub fn run(config: &Config, command: GrantCommand) -> Result<()> {
    match command {
        GrantCommand::Add(a) => add(config, a),
        GrantCommand::List(a) => list(config, a),
        GrantCommand::Remove(a) => remove(config, a),
    }
}

fn add(config: &Config, a: AddArgs) -> Result<()> {
    let hosts: HostSelector = a
        .hosts
        .parse()
        .map_err(|e: host_policy::PolicyError| Error::Usage(e.to_string()))?;
    let role = if a.sudo { Role::Sudo } else { Role::Ssh };
    if let Some(bad) = a.extra_groups.iter().find(|g| !is_valid_name(g)) {
        return Err(Error::Usage(format!(
            "invalid extra group {bad:?}: use a POSIX group name ([a-z_][a-z0-9_-]*, at most 32)"
        )));
    }
    let store = db::open(config, Open::Existing)?;
    let row = store.write(|tx| -> Result<_> {
        let team = db::team(tx, &a.team.team)?;
        let group = super::groups::find(tx, team.id, &team.slug, &a.group)?;
        let grant = tx
            .grants()
            .add(
                team.id,
                &group.id,
                &hosts.to_string(),
                role.as_str(),
                &a.extra_groups,
            )
            .map_err(|e| match e {
                store::StoreError::Conflict { .. } => {
                    Error::Conflict(format!("group {} already has {role} on {hosts}", a.group))
                }
                other => other.into(),
            })?;
        db::audit(
            tx,
            &team,
            "admin.grant.add",
            201,
            "Grant",
            &grant.id.to_string(),
            format!("grant {}: group {} {role} on {hosts}", grant.id, group.id),
        )?;
        row(tx, team.id, grant)
    })?;
    if a.format.json {
        return output::print_json(&row);
    }
    output::print_lines(&[format!(
        "Grant {}: members of {} ({}) get {} on hosts {}.",
        row.id, row.group, row.group_id, row.role, row.hosts
    )])
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let store = db::open(config, Open::Existing)?;
    let rows = store.read(|tx| -> Result<_> {
        let team = db::team(tx, &a.team.team)?;
        let grants = tx.grants().list(team.id)?;
        grants
            .into_iter()
            .map(|g| row(tx, team.id, g))
            .collect::<Result<Vec<_>>>()
    })?;
    if a.format.json {
        return output::print_json(&rows);
    }
    let mut table = Table::new(&["ID", "GROUP", "GROUP ID", "ROLE", "HOSTS", "EXTRA GROUPS"]);
    for r in &rows {
        table.row(vec![
            r.id.to_string(),
            r.group.clone(),
            r.group_id.clone(),
            r.role.clone(),
            r.hosts.clone(),
            r.extra_groups.join(","),
        ]);
    }
    table.print(&format!("Team {} has no grants.", a.team.team))
}

fn remove(config: &Config, a: RemoveArgs) -> Result<()> {
    let store = db::open(config, Open::Existing)?;
    let row = store.write(|tx| -> Result<_> {
        let team = db::team(tx, &a.team.team)?;
        let grant = tx
            .grants()
            .get(team.id, a.id)?
            .ok_or_else(|| Error::NotFound(format!("team {} has no grant {}", team.slug, a.id)))?;
        let row = row(tx, team.id, grant)?;
        tx.grants().remove(team.id, a.id)?;
        db::audit(
            tx,
            &team,
            "admin.grant.remove",
            200,
            "Grant",
            &a.id.to_string(),
            format!(
                "removed grant {}: group {} {} on {}",
                a.id, row.group_id, row.role, row.hosts
            ),
        )?;
        Ok(row)
    })?;
    if a.format.json {
        return output::print_json(&row);
    }
    output::print_lines(&[format!(
        "Removed grant {} ({} on {} for {}).",
        row.id, row.role, row.hosts, row.group
    )])
}
