//! `sshward groups list|show`: the SCIM groups of a team, with member counts.

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::{Map, Value};
use store::{ListQuery, MemberRecord, ResourceKind, ResourceRecord, TeamId, Tx};
use time::OffsetDateTime;

use super::token::TeamArg;
use super::users::{ListArgs, list_query, paging_note, parse_filter};
use crate::config::Config;
use crate::db::{self, Open};
use crate::error::{Error, Result};
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
    let filter = parse_filter(a.filter.as_deref(), ResourceKind::Group)?;
    let store = db::open(config, Open::Existing)?;
    let (total, rows) = store.read(|tx| -> Result<_> {
        let team = db::team(tx, &a.team.team)?;
        let page = tx
            .groups()
            .list(team.id, &list_query(filter.as_ref(), &a))?;
        let mut rows = Vec::with_capacity(page.items.len());
        for r in &page.items {
            let n = tx.groups().member_count(team.id, &r.id)?;
            rows.push(GroupRow::new(r, n));
        }
        Ok((page.total, rows))
    })?;
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
        None => format!("Team {} has no groups yet.", a.team.team),
    };
    table.print(&empty)?;
    if let Some(note) = paging_note(rows.len(), a.offset, total) {
        output::print_lines(&[note])?;
    }
    Ok(())
}

/// The group with this id, or else with this displayName (ignoring case).
pub(crate) fn find(tx: &mut Tx<'_>, team: TeamId, slug: &str, key: &str) -> Result<ResourceRecord> {
    if let Some(r) = tx.groups().get(team, key)? {
        return Ok(r);
    }
    let quoted = serde_json::to_string(key)?;
    let filter = parse_filter(
        Some(&format!("displayName eq {quoted}")),
        ResourceKind::Group,
    )?;
    let query = ListQuery {
        filter: filter.as_ref(),
        count: Some(1),
        ..ListQuery::default()
    };
    tx.groups()
        .list(team, &query)?
        .items
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "team {slug} has no group with id or displayName {key:?}"
            ))
        })
}

fn show(config: &Config, a: ShowArgs) -> Result<()> {
    let store = db::open(config, Open::Existing)?;
    let (record, count, members) =
        store.read(|tx| -> Result<(ResourceRecord, u64, Vec<MemberRecord>)> {
            let team = db::team(tx, &a.team.team)?;
            let record = find(tx, team.id, &team.slug, &a.group)?;
            let count = tx.groups().member_count(team.id, &record.id)?;
            let members = if a.no_members {
                Vec::new()
            } else {
                tx.groups().members(team.id, &record.id)?
            };
            Ok((record, count, members))
        })?;
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
