//! `sshward grant add|list|remove`: grants of host access to IdP groups. A grant names
//! the group by its immutable SCIM id (the CLI accepts a displayName and resolves it once,
//! when the grant is made), so renaming the group keeps the grant and a new group with
//! the old name gets nothing.

use app::{GrantView, NewGrant};
use clap::{Args, Subcommand};
use host_policy::Role;
use serde::Serialize;
use time::OffsetDateTime;

use super::token::TeamArg;
use crate::config::Config;
use crate::db;
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

impl GrantRow {
    fn new(g: GrantView) -> GrantRow {
        GrantRow {
            id: g.id,
            group: g.group_name.unwrap_or_else(|| "?".into()),
            group_id: g.group_id,
            hosts: g.hosts.to_string(),
            role: g.role.to_string(),
            extra_groups: g.extra_groups.iter().map(ToString::to_string).collect(),
            created: g.created,
        }
    }
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
    let team = a.team.slug(config)?;
    let grant = NewGrant {
        group: a.group.clone(),
        hosts: a.hosts.parse()?,
        role: if a.sudo { Role::Sudo } else { Role::Ssh },
        extra_groups: a
            .extra_groups
            .iter()
            .map(|g| g.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| Error::Usage(format!("invalid extra group: {e}")))?,
    };
    let row = GrantRow::new(db::app(config)?.add_grant(&db::cli_actor(), &team, &grant)?);
    if a.format.json {
        return output::print_json(&row);
    }
    output::print_lines(&[format!(
        "Grant {}: members of {} ({}) get {} on hosts {}.",
        row.id, row.group, row.group_id, row.role, row.hosts
    )])
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let grants = db::app(config)?.grants(&team)?;
    let rows: Vec<GrantRow> = grants.into_iter().map(GrantRow::new).collect();
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
    table.print(&format!("Team {} has no grants.", team))
}

fn remove(config: &Config, a: RemoveArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let removed = db::app(config)?.remove_grant(&db::cli_actor(), &team, a.id)?;
    let row = GrantRow::new(removed);
    if a.format.json {
        return output::print_json(&row);
    }
    output::print_lines(&[format!(
        "Removed grant {} ({} on {} for {}).",
        row.id, row.role, row.hosts, row.group
    )])
}
