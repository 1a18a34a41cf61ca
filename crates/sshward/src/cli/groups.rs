//! `sshward groups list|show`: the SCIM groups of a team, with member counts.

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::{Map, Value};
use store::{ResourceKind, ResourceRecord};
use time::OffsetDateTime;

use super::token::TeamArg;
use super::users::{ListArgs, list_query, paging_note, parse_filter};
use crate::config::Config;
use crate::db;
use crate::error::Result;
use crate::output::{self, Format, Table};

/// Groups subcommands.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List groups with their member counts, optionally filtered with a SCIM filter
    List(ListArgs),
    /// Show one group (by id or displayName) and its members
    Show(ShowArgs),
}

/// `groups show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub team: TeamArg,
    /// The group's SCIM id or displayName
    pub group: String,
    /// Do not list the members (their count is still shown)
    #[arg(long)]
    pub no_members: bool,
    #[command(flatten)]
    pub format: Format,
}

/// A group in a listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupRow {
    id: String,
    display_name: String,
    external_id: Option<String>,
    members: u64,
    #[serde(with = "output::rfc3339")]
    created: OffsetDateTime,
    #[serde(with = "output::rfc3339")]
    last_modified: OffsetDateTime,
}

impl GroupRow {
    fn new(r: &ResourceRecord, members: u64) -> Self {
        let text = |k: &str| r.data.get(k).and_then(Value::as_str).map(str::to_owned);
        GroupRow {
            id: r.id.clone(),
            display_name: text("displayName").unwrap_or_default(),
            external_id: text("externalId"),
            members,
            created: r.created,
            last_modified: r.last_modified,
        }
    }
}

/// Runs a groups subcommand.
pub fn run(config: &Config, command: GroupsCommand) -> Result<()> {
    match command {
        GroupsCommand::List(a) => list(config, a),
        GroupsCommand::Show(a) => show(config, a),
    }
}

fn list(config: &Config, a: ListArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let filter = parse_filter(a.filter.as_deref(), ResourceKind::Group)?;
    let (total, groups) = db::app(config)?.groups(&team, &list_query(filter.as_ref(), &a))?;
    let rows: Vec<GroupRow> = groups
        .iter()
        .map(|g| GroupRow::new(&g.group, g.member_count))
        .collect();
    if a.format.json {
        return output::print_json(&serde_json::json!({
            "totalResults": total,
            "groups": rows,
        }));
    }
    let mut table = Table::new(&[
        "ID",
        "DISPLAY NAME",
        "MEMBERS",
        "EXTERNAL ID",
        "LAST MODIFIED",
    ]);
    for r in &rows {
        table.row(vec![
            r.id.clone(),
            r.display_name.clone(),
            r.members.to_string(),
            r.external_id.clone().unwrap_or_else(|| "-".into()),
            output::time(r.last_modified),
        ]);
    }
    let empty = match a.filter {
        Some(_) => "No group matches the filter.".to_owned(),
        None => format!("Team {} has no groups yet.", team),
    };
    table.print(&empty)?;
    if let Some(note) = paging_note(rows.len(), a.offset, total) {
        output::print_lines(&[note])?;
    }
    Ok(())
}

fn show(config: &Config, a: ShowArgs) -> Result<()> {
    let team = a.team.slug(config)?;
    let details = db::app(config)?.group(&team, &a.group, !a.no_members)?;
    let (record, count, members) = (details.group, details.member_count, details.members);
    let row = GroupRow::new(&record, count);
    if a.format.json {
        let mut doc = Map::new();
        doc.insert("id".into(), Value::String(record.id.clone()));
        doc.extend(record.data.clone());
        if !a.no_members {
            doc.insert(
                "members".into(),
                Value::Array(
                    members
                        .iter()
                        .map(|m| serde_json::json!({"value": m.value, "display": m.display, "type": m.member_type}))
                        .collect(),
                ),
            );
        }
        doc.insert("memberCount".into(), Value::from(count));
        doc.insert(
            "meta".into(),
            serde_json::json!({
                "resourceType": "Group",
                "created": output::time(record.created),
                "lastModified": output::time(record.last_modified),
                "version": format!("W/\"{}\"", record.version),
            }),
        );
        return output::print_json(&doc);
    }
    output::print_fields(&[
        ("ID", row.id.clone()),
        ("displayName", row.display_name.clone()),
        (
            "externalId",
            row.external_id.clone().unwrap_or_else(|| "-".into()),
        ),
        ("members", row.members.to_string()),
        ("created", output::time(row.created)),
        ("lastModified", output::time(row.last_modified)),
        ("version", record.version.to_string()),
    ])?;
    if !a.no_members && !members.is_empty() {
        let mut table = Table::new(&["MEMBER ID", "DISPLAY"]);
        for m in &members {
            table.row(vec![m.value.clone(), m.display.clone()]);
        }
        output::print_lines(&[String::new()])?;
        table.print("")?;
    }
    Ok(())
}
